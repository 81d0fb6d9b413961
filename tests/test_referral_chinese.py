"""The contact steps in Chinese: the offer, consent (versioned per language) and contact details,
driven in the core (no Rasa) and through the action with rasa_sdk's Tracker, writing to the
test database. English stays as it was."""
import dataclasses

import pytest
from sqlalchemy import select

from prescreen import i18n
from prescreen.screening import wording
from prescreen.screening.conversation import RESPONDENT, Conversation, Screening
from prescreen.referral import conversation as referral_module
from prescreen.referral.conversation import (CONSENT_VERSIONS, Referral, ReferralConversation, consent_fingerprint,
                                             start_referral)
from prescreen.storage import ConsentRecord, HandoffRecord, ScreeningRecord

from test_conversation import answer_everything

# The consent's texts, per language and version. A change to the consent's wording in a
# language changes its fingerprint: give that language a new version in CONSENT_VERSIONS
# (prescreen/referral/conversation.py) and record the new fingerprint here.
CONSENT_FINGERPRINTS = {("en", "2"): "9bea13ae2c24e58f", ("zh", "1"): "b3df73b3823e1b6a"}


@pytest.fixture(scope="module")
def chat(catalog):
    return ReferralConversation(catalog)




@pytest.fixture(autouse=True)
def chinese():
    with i18n.using("zh"):
        yield


def play(chat, referral, replies, respondent="self"):
    """Each reply after the question on screen; what was said (questions and answers) and the handoffs."""
    said, handoffs, turns = [], [], []
    for text in replies:
        question = chat.ask(referral, respondent)
        said.append(question.text if question else None)
        turn = chat.receive(referral, text, respondent)
        turns.append(turn)
        said += [str(m.text) for m in turn.messages]
        if turn.handoff:
            handoffs.append(turn.handoff)
    return said, handoffs, turns


def at_step(catalog, chat, adult, step):
    """A referral at this step of the first study's contact steps."""
    before = {"choose": [], "consent": ["1"], "name": ["1", "同意"], "phone": ["1", "同意", "张伟"],
              "email": ["1", "同意", "张伟", "13812345678"], "time": ["1", "同意", "张伟", "13812345678", "没有"],
              "language": ["1", "同意", "张伟", "13812345678", "没有", "上午"],
              "language_other": ["1", "同意", "张伟", "13812345678", "没有", "上午", "其他"],
              "medicines": ["1", "同意", "张伟", "13812345678", "没有", "上午", "普通话"]}[step]
    referral = start_referral(catalog, adult, "s1")
    play(chat, referral, before)
    assert referral.step == step
    return referral


def test_the_whole_contact_steps_in_chinese_make_one_handoff_with_a_chinese_consent(catalog, chat, adult):
    referral = start_referral(catalog, adult, "s1")
    offer = chat.ask(referral, "self")
    assert [b["payload"] for b in offer.buttons] == [f"choice:offer:{t.id}" for t in catalog.trials] + ["choice:none"]
    assert offer.text.startswith(str(wording.choose_teams(False, len(catalog.trials))))
    for number, trial in enumerate(catalog.trials, 1):  # each study by its Chinese title, with its city in Chinese
        title, city = trial.short_title.resolve("zh"), trial.sites[0].city.resolve("zh")
        assert f"\n{number}. {title}" in offer.text and (city in title or f"{title}（{city}）" in offer.text)
    assert offer.buttons[-1]["title"] == str(wording.NONE_OF_THEM) != wording.NONE_OF_THEM.original
    said, handoffs, turns = play(chat, referral, [
        "第二个", "同意", "我叫张伟", "+86 138-1234-5678", "不用", "下午3点以后", "普通话", "没有"])
    trial = catalog.trial(referral.consented[0])
    site = trial.sites[0]
    consent = said[1]
    assert consent.startswith("在留下联系方式之前，请先阅读以下内容。") and consent.endswith("您同意吗？")
    assert f"发送给{site.city}{site.name}的研究团队" in consent and "删除我的数据" in consent
    assert "您有资格" not in consent and "您符合条件" not in consent
    assert said[2] == "研究团队打电话时，应该找哪位？请留下姓名。"
    assert said[3].startswith("他们可以打哪个电话号码？")
    assert said[4].startswith("他们可以发邮件到哪个电子邮箱？如果不想留")
    assert said[5] == "什么时间联系您最方便？" and said[6] == "您希望他们用哪种语言和您沟通？"
    assert said[7] == str(wording.MEDICINES_QUESTION)
    [handoff] = handoffs
    assert handoff.trial_id == catalog.trials[1].id == trial.id
    contact = handoff.contact
    assert (contact.name, contact.phone, contact.email) == ("张伟", "+8613812345678", None)
    # A choice is stored as its English label (the summary shows it in the site's language); typed words as typed.
    assert (contact.preferred_time, contact.language, contact.medicines) == ("下午3点以后", "Mandarin", None)
    assert (handoff.consent_language, handoff.consent_version) == ("zh", CONSENT_VERSIONS["zh"])
    assert handoff.consent_text == consent[:-len("您同意吗？")]
    assert said[-1].startswith("谢谢您。您的回答和联系方式将发送给") and "只能由研究团队决定" in said[-1]
    assert referral.finished and chat.closing(referral).text == "就这些了。谢谢您，请多保重。"


def test_the_consent_question_and_every_detail_question_has_chinese_buttons_with_the_same_payloads(catalog, chat, adult):
    referral = at_step(catalog, chat, adult, "consent")
    question = chat.ask(referral, "self")
    assert question.buttons == [{"title": "是的，我同意", "payload": "yes"}, {"title": "不同意", "payload": "no"}]
    play(chat, referral, ["好的", "张伟"])
    assert chat.ask(referral, "self").buttons == [{"title": "跳过", "payload": "skip"}]
    play(chat, referral, ["13812345678", "跳过"])
    assert chat.ask(referral, "self").buttons == [
        {"title": "上午（9-12点）", "payload": "choice:morning"}, {"title": "下午（12-18点）", "payload": "choice:afternoon"},
        {"title": "晚上（18-20点）", "payload": "choice:evening"}, {"title": "任何时间", "payload": "choice:any"}]
    play(chat, referral, ["choice:evening"])
    assert referral.contact["preferred_time"] == "Evening (6-8)"
    with i18n.using("zh"):
        assert i18n.said(referral.contact["preferred_time"]) == "晚上（18-20点）"
    assert chat.ask(referral, "self").buttons == [
        {"title": "普通话", "payload": "choice:mandarin"}, {"title": "粤语", "payload": "choice:cantonese"},
        {"title": "英语", "payload": "choice:english"}, {"title": "其他语言", "payload": "other"}]


def test_a_parent_reads_about_their_child_and_the_sensitive_topics_in_chinese(catalog, chat, planner, monkeypatch):
    monkeypatch.setenv("PRESCREEN_OPERATOR", "the Zhejiang trial office")
    monkeypatch.setenv("PRESCREEN_OPERATOR_ZH", "浙江临床研究办公室")
    monkeypatch.setenv("HANDOFF_RETENTION_DAYS", "90")
    screening = answer_everything(Conversation(planner), Screening(), {
        RESPONDENT: "me", "condition": "lupus", "refractory": "yes", "age": "34",
        "diagnosis_when": "more than 2 years ago", "sex": "female"})
    referral = start_referral(catalog, screening, "s1")
    topics = [catalog.facts[f].sensitive for f in screening.answers if catalog.facts[f].sensitive]
    assert topics and referral.sensitive == [t.original for t in topics]  # kept in English, shown translated
    play(chat, referral, ["1"])
    text = chat.ask(referral, "guardian").text
    assert "关于您孩子的回答，包括您提到的" in text
    for topic in topics:
        assert topic.resolve("zh") in text
    assert "including what you said" not in text and "study team at" not in text
    assert "本对话由浙江临床研究办公室运营" in text and "最多保存90天" in text
    with i18n.using("en"):
        english = chat.ask(referral, "guardian").text
    assert "the Zhejiang trial office" in english and "about your child, including what you said about" in english


@pytest.mark.parametrize("typed, name", [("张伟", "张伟"), ("欧阳娜娜", "欧阳娜娜"), ("我叫欧阳娜娜。", "欧阳娜娜"),
                                         ("我的名字是 李 娜", "李 娜"), ("Li Wei", "Li Wei"), ("张伟，", "张伟")])
def test_names_in_chinese_characters_are_kept_as_typed(catalog, chat, adult, typed, name):
    referral = at_step(catalog, chat, adult, "name")
    play(chat, referral, [typed])
    assert referral.contact["name"] == name and referral.step == "phone"


@pytest.mark.parametrize("typed", ["张\u200b伟", "欧阳\x07娜娜", "张伟\u202e"])
def test_names_with_control_or_invisible_characters_are_refused(catalog, chat, adult, typed):
    referral = at_step(catalog, chat, adult, "name")
    said, _, _ = play(chat, referral, [typed])
    assert said[-1] == str(wording.NO_SPECIAL_CHARACTERS) and referral.step == "name" and "name" not in referral.contact


@pytest.mark.parametrize("typed, stored", [
    ("13812345678", "13812345678"), ("138 1234 5678", "13812345678"), ("138-1234-5678", "13812345678"),
    ("+86 138 1234 5678", "+8613812345678"), ("+86-13812345678", "+8613812345678"), ("86 13812345678", "+8613812345678"),
    ("008613812345678", "+8613812345678"), ("0571-87654321", "057187654321"), ("027 8765 4321", "02787654321"),
    ("0577-8888888", "05778888888"), ("+86 571 8765 4321", "+8657187654321"), ("我的手机号是13812345678", "13812345678"),
    ("手机号码：138 1234 5678", "13812345678"), ("＋８６ １３８１２３４５６７８", "+8613812345678"),
    ("+44 20 7946 0958", "+442079460958"),  # another country's number, with its code, is kept
])
def test_chinese_phone_numbers_are_stored_normalised(catalog, chat, adult, typed, stored):
    referral = at_step(catalog, chat, adult, "phone")
    play(chat, referral, [typed])
    assert referral.contact["phone"] == stored and referral.step == "email"


@pytest.mark.parametrize("typed, hint", [
    ("1381234567", "手机号码是11位数字"), ("138123456789", "手机号码是11位数字"), ("23812345678", "手机号码是11位数字"),
    ("12812345678", "手机号码是11位数字"), ("+86 12345", "手机号码是11位数字"), ("138123", "不像电话号码"),
    ("打我电话", "不像电话号码"), ("一三八一二三四五六七八", "不像电话号码"),
])
def test_a_bad_phone_gets_a_clear_chinese_reply_and_is_asked_again(catalog, chat, adult, typed, hint):
    referral = at_step(catalog, chat, adult, "phone")
    said, _, _ = play(chat, referral, [typed])
    assert hint in said[-1] and "跳过" in said[-1]
    assert referral.step == "phone" and "phone" not in referral.contact
    assert chat.ask(referral, "self").text.startswith("他们可以打哪个电话号码？")


@pytest.mark.parametrize("typed, stored", [
    ("上午", "Morning (9-12)"), ("上午吧", "Morning (9-12)"), ("最好是下午", "Afternoon (12-6)"),
    ("晚上。", "Evening (6-8)"), ("随时都可以", "Any time"), ("下午3点以后", "下午3点以后"), ("工作日晚上", "工作日晚上"),
    ("周末", "周末"), ("morning", "Morning (9-12)"),
])
def test_chinese_times(catalog, chat, adult, typed, stored):
    referral = at_step(catalog, chat, adult, "time")
    play(chat, referral, [typed])
    assert referral.contact["preferred_time"] == stored and referral.step == "language"


@pytest.mark.parametrize("typed, stored", [
    ("中文", "Mandarin"), ("普通话", "Mandarin"), ("说普通话吧", "Mandarin"), ("粤语", "Cantonese"), ("广东话", "Cantonese"),
    ("英语", "English"), ("English", "English"), ("温州话", "温州话"), ("普通话或者英语", "普通话或者英语"),
])
def test_chinese_language_names(catalog, chat, adult, typed, stored):
    referral = at_step(catalog, chat, adult, "language")
    play(chat, referral, [typed])
    assert referral.contact["language"] == stored and referral.step == "medicines"


def test_another_language_is_asked_and_kept_as_typed(catalog, chat, adult):
    referral = at_step(catalog, chat, adult, "language")
    said, _, _ = play(chat, referral, ["其他", "温州话"])
    assert said[1] == "请输入您希望他们使用的语言。" and referral.contact["language"] == "温州话"


def test_optional_steps_take_no_and_no_need(catalog, chat, adult):
    referral = at_step(catalog, chat, adult, "phone")
    said, _, _ = play(chat, referral, ["没有", "没有"])  # no phone, then no email: one of them is needed
    assert said[-1] == "研究团队需要电话号码或电子邮箱。请至少留一个。" and referral.step == "email"
    play(chat, referral, ["我的邮箱是 zhangwei@example.cn"])
    assert referral.contact["phone"] is None and referral.contact["email"] == "zhangwei@example.cn"
    _, handoffs, _ = play(chat, referral, ["上午", "普通话", "暂时不用"])
    assert handoffs[0].contact.medicines is None
    referral = at_step(catalog, chat, adult, "medicines")
    _, handoffs, _ = play(chat, referral, ["羟氯喹和泼尼松 5mg"])
    assert handoffs[0].contact.medicines == "羟氯喹和泼尼松 5mg"


def test_a_bad_email_gets_a_chinese_reply(catalog, chat, adult):
    referral = at_step(catalog, chat, adult, "email")
    said, _, _ = play(chat, referral, ["zhangwei at example"])
    assert said[-1] == "这看起来不像电子邮箱地址。请检查一下，例如 name@example.com。" and referral.step == "email"
    play(chat, referral, ["zhangwei＠example．cn"])  # a Chinese keyboard's full-width signs
    assert referral.contact["email"] == "zhangwei@example.cn"


@pytest.mark.parametrize("reply, chosen", [("第一个和第三个", [0, 2]), ("全部", [0, 1, 2, 3, 4]), ("都要", [0, 1, 2, 3, 4]),
                                           ("1和5", [0, 4])])
def test_typed_chinese_choices_of_study_teams(catalog, chat, adult, reply, chosen):
    referral = start_referral(catalog, adult, "s1")
    chat.receive(referral, reply, "self")
    assert [referral.trial] + referral.queue == [catalog.trials[i].id for i in chosen] and referral.step == "consent"


class OneCityCatalog:
    """The real catalog, but the first site's city read from the data in both languages."""

    def __init__(self, catalog):
        first = catalog.trials[0]
        site = dataclasses.replace(first.sites[0], city=i18n.DataText("Wuhan", {"zh": "武汉"}))
        self.trials = [dataclasses.replace(first, sites=(site, *first.sites[1:])), *catalog.trials[1:]]
        self.facts = catalog.facts

    def trial(self, trial_id):
        return next(t for t in self.trials if t.id == trial_id)


@pytest.mark.parametrize("reply", ["武汉的那个", "武汉", "Wuhan"])
def test_a_city_named_in_either_language_chooses_its_study(catalog, reply):
    data = OneCityCatalog(catalog)
    referral = Referral(offers=[t.id for t in data.trials], step="choose")
    ReferralConversation(data).receive(referral, reply, "self")
    assert referral.trial == data.trials[0].id and referral.step == "consent"


@pytest.mark.parametrize("reply", ["都不要", "不用了", "不要", "算了"])
def test_declining_the_offer_in_chinese_sends_nothing(catalog, chat, adult, reply):
    referral = start_referral(catalog, adult, "s1")
    _, handoffs, _ = play(chat, referral, [reply])
    assert handoffs == [] and referral.finished and "没有向任何人发送任何信息" in chat.closing(referral).text


@pytest.mark.parametrize("reply", ["不同意", "不", "我不同意"])
def test_only_an_explicit_yes_in_chinese_gives_consent(catalog, chat, adult, reply):
    referral = at_step(catalog, chat, adult, "consent")
    _, handoffs, _ = play(chat, referral, [reply])
    assert handoffs == [] and referral.contact == {} and referral.step == "done"


@pytest.mark.parametrize("reply", ["我再想想", "不知道", "我的数据会给谁？", "可以以后撤回吗"])
def test_anything_else_at_the_consent_asks_again_and_takes_no_detail(catalog, chat, adult, reply):
    referral = at_step(catalog, chat, adult, "consent")
    said, handoffs, _ = play(chat, referral, [reply])
    assert handoffs == [] and referral.step == "consent" and len(said) == 2


# Each command, in Chinese and in English, at every step: the same outcome.
COMMANDS = [("为什么", "why"), ("返回", "go back"), ("重新开始", "start over"), ("删除我的数据", "delete my data"),
            ("停止", "stop")]
STEPS = ["choose", "consent", "name", "phone", "email", "time", "language", "language_other", "medicines"]


def outcome(catalog, chat, adult, step, text, language):
    with i18n.using(language):
        referral = at_step(catalog, chat, adult, step)
        turn = chat.receive(referral, text, "self")
        then = chat.ask(referral, "self")
        follow = None
        if referral.confirm == "stop":  # a bare "stop" where a detail is expected is asked back first
            follow = chat.receive(referral, "是" if language == "zh" else "yes", "self").leave
        return {"step": referral.step, "confirm": bool(then and then.text == str(wording.CONFIRM_STOP)),
                "leave": turn.leave, "follow": follow, "contact": sorted(referral.contact), "said": len(turn.messages),
                "handoff": turn.handoff}, [str(m.text) for m in turn.messages]


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("chinese, english", COMMANDS)
def test_the_chinese_commands_work_at_every_step_exactly_as_the_english_ones(catalog, chat, adult, step, chinese,
                                                                             english):
    zh, zh_said = outcome(catalog, chat, adult, step, chinese, "zh")
    en, en_said = outcome(catalog, chat, adult, step, english, "en")
    assert zh == en
    assert zh["handoff"] is None
    if english == "why":
        with i18n.using("zh"):
            assert zh_said == [str(referral_module.WHY_STEP.get(step, referral_module.WHY_STEP["name"]))]
        assert all("\u4e00" <= c <= "\u9fff" for c in zh_said[0][:2])
    if english == "stop" and step in referral_module.DETAIL_STEPS:
        assert zh["confirm"] and zh["follow"] == "stop"


def test_a_question_typed_where_a_detail_is_expected_is_never_stored(catalog, chat, adult):
    referral = at_step(catalog, chat, adult, "name")
    said, _, _ = play(chat, referral, ["你们是哪家医院？"])
    assert said[-1] == str(wording.QUESTION_AT_A_DETAIL) and referral.contact == {}


def test_the_consent_is_versioned_per_language():
    assert set(CONSENT_VERSIONS) == set(i18n.LANGUAGES)
    fingerprints = {(language, CONSENT_VERSIONS[language]): consent_fingerprint(language)
                    for language in i18n.LANGUAGES}
    assert fingerprints == CONSENT_FINGERPRINTS, (
        "a consent text changed: give its language a new version in CONSENT_VERSIONS and record "
        f"the fingerprints here: {fingerprints}")
    assert consent_fingerprint("en") != consent_fingerprint("zh")


def test_english_is_unchanged(catalog, chat, adult):
    with i18n.using("en"):
        referral = start_referral(catalog, adult, "s1")
        said, handoffs, _ = play(chat, referral, ["2", "yes", "Li Wei", "+86 138 0013 8000", "skip", "choice:morning",
                                                  "choice:mandarin", "skip"])
        site = catalog.trials[1].sites[0]
        assert said[1].startswith("Before I take any details, please read this. If you agree, I will send your answers "
                                  "from this chat") and said[1].endswith(" Do you agree?")
        assert f"study team at {site.name} in {site.city}" in said[1]
        assert said[2] == "What name should the study team ask for when they call?"
        [handoff] = handoffs
        assert (handoff.consent_language, handoff.consent_version) == ("en", "2")
        assert (handoff.contact.phone, handoff.contact.preferred_time, handoff.contact.language) == (
            "+8613800138000", "Morning (9-12)", "Mandarin")
        assert said[-1].startswith("Thank you. Your answers and contact details will be sent to the study team at ")
        referral = at_step(catalog, chat, adult, "phone")
        said, _, _ = play(chat, referral, ["1381234567"])  # English keeps its own, looser phone rule
        assert referral.contact["phone"] == "1381234567"


# Through the action, as the assistant runs it: the consent record keeps language and version.

def test_a_chinese_conversation_stores_its_consent_in_chinese_with_its_version(adult):
    from actions.store import database
    from test_referral_actions import reply, show_results

    with i18n.using("en"):
        slots, _ = show_results("zh-actions-1", adult.to_json())
    slots = {**slots, "language": "zh"}
    said = []
    for text in ["1", "同意", "欧阳娜娜", "0571-87654321", "不用", "工作日晚上", "粤语"]:
        said, slots = reply("zh-actions-1", slots, text)
        assert slots["stage"] == "contact"
    assert said[-1] == str(wording.MEDICINES_QUESTION)  # in Chinese (the test runs in Chinese)
    said, slots = reply("zh-actions-1", slots, "没有")
    with database().transaction() as session:
        [handoff] = session.scalars(select(HandoffRecord).where(
            HandoffRecord.screening_id == slots["referral"]["screening_id"])).all()
        consent = session.get(ConsentRecord, handoff.consent_id)
        assert (handoff.contact_name, handoff.contact_phone, handoff.contact_email) == ("欧阳娜娜", "057187654321", None)
        assert (handoff.preferred_time, handoff.language) == ("工作日晚上", "Cantonese")
        assert (consent.language, consent.version) == ("zh", CONSENT_VERSIONS["zh"])
        assert consent.text.startswith("在留下联系方式之前") and "删除我的数据" in consent.text
        assert handoff.payload["consent"]["language"] == "zh"
        assert handoff.payload["consent"]["version"] == CONSENT_VERSIONS["zh"]
    assert said[0].startswith("谢谢您。")


def test_delete_my_data_and_stop_in_the_middle_of_the_chinese_contact_steps(adult):
    from test_referral_actions import reply, show_results, stored

    with i18n.using("en"):
        slots, _ = show_results("zh-actions-2", adult.to_json())
    slots = {**slots, "language": "zh"}
    for text in ["1", "同意", "张伟"]:
        _, slots = reply("zh-actions-2", slots, text)
    said, slots = reply("zh-actions-2", slots, "删除我的数据", intent="withdraw")
    assert said == [str(wording.ERASE_QUESTION)] and slots["stage"] == "erase"
    said, after = reply("zh-actions-2", slots, "不")  # only a yes erases
    assert said[0] == str(wording.NOTHING_ERASED) and said[-1].startswith("他们可以打哪个电话号码？")
    assert after["referral"]["contact"] == {"name": "张伟"} and stored(ScreeningRecord, conversation_id="zh-actions-2")
    said, slots = reply("zh-actions-2", slots, "是", intent="affirm")
    assert said == [str(wording.ERASED)] and slots["erase_conversation"] is True
    assert stored(ScreeningRecord, conversation_id="zh-actions-2") == []

    with i18n.using("en"):
        slots, _ = show_results("zh-actions-3", adult.to_json())
    slots = {**slots, "language": "zh"}
    for text in ["1", "同意", "张伟"]:
        _, slots = reply("zh-actions-3", slots, text)
    said, slots = reply("zh-actions-3", slots, "停止", intent="stop")
    assert said == [str(wording.CONFIRM_STOP)] and slots["referral"]["confirm"] == "stop"
    said, slots = reply("zh-actions-3", slots, "是的", intent="affirm")
    assert said == [str(wording.STOPPED)] and slots["referral"]["step"] == "done"
    assert stored(HandoffRecord, contact_name="张伟") == []


def test_a_chinese_site_gets_its_emails_and_the_withdrawal_notice_in_chinese_and_english(tmp_path, catalog):
    import email as email_parser
    import email.policy  # noqa: F401 - email_parser.policy

    from prescreen.referral.handoff import erase_conversation
    from prescreen.referral.relay import Relay
    from prescreen.storage import Database
    from receivers import MailReceiver
    from test_handoff import TRIAL, make_handoff

    assert catalog.trial(TRIAL).sites[0].language == "zh"
    db = Database(f"sqlite:///{tmp_path / 'prescreen.db'}")
    db.create_schema()
    mail = MailReceiver().start()
    try:
        env = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(mail.port), "SMTP_SECURITY": "plain-local-test",
               f"SITE_{TRIAL}_EMAIL": "crc@hospital.test"}
        make_handoff(db, catalog, env, conversation="conv-zh-withdraw")
        relay = Relay(db, env=env)
        with i18n.using("en"):  # the relay runs in no conversation: the site decides
            assert relay.run_once() == 1
            assert erase_conversation(db, "conv-zh-withdraw") == 1
            assert relay.run_once() == 1
        summary, notice = [email_parser.message_from_bytes(m, policy=email_parser.policy.default)
                           for m in mail.messages]
        assert summary["Subject"].startswith(f"预筛查：一位对 {TRIAL} 感兴趣的患者（")
        assert summary["Subject"].endswith(")") and f" / Pre-screening: a patient for {TRIAL} (" in summary["Subject"]
        assert notice["Subject"].startswith(f"预筛查：一位患者已撤回同意（{TRIAL}，")
        assert f" / Pre-screening: a patient withdrew ({TRIAL}, " in notice["Subject"]
        body = notice.get_body(("plain",)).get_content()
        assert body.startswith("撤回通知\n预筛查 ") and "请删除您收到的摘要及其所有副本，并且不要联系这位患者。" in body
        assert "WITHDRAWAL\nThe patient of pre-screening" in body and "do not contact the patient" in body
        assert "<title>撤回通知</title>" in notice.get_body(("html",)).get_content()
    finally:
        mail.stop()


@pytest.mark.parametrize("answer, stopped", [("好的", True), ("是", True), ("不", False), ("继续", False)])
def test_a_stop_asked_back_in_chinese_stops_only_on_a_yes(catalog, chat, adult, answer, stopped):
    referral = at_step(catalog, chat, adult, "phone")
    chat.receive(referral, "停止", "self")
    turn = chat.receive(referral, answer, "self")
    assert (turn.leave == "stop") is stopped and (referral.step == "done") is stopped
    assert turn.handoff is None and referral.confirm is None


def test_a_statement_ending_in_a_particle_is_not_a_question(catalog, chat, adult):
    referral = at_step(catalog, chat, adult, "medicines")
    _, handoffs, _ = play(chat, referral, ["还在吃强的松呢"])
    assert handoffs[0].contact.medicines == "还在吃强的松呢"
