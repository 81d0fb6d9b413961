"""The screening's own texts in a Chinese conversation: wholly Chinese, and English unchanged.

Driven through the core (prescreen.screening.conversation and results) inside
`i18n.using("zh")`, the way every turn action runs. Texts are turned into strings inside
the block, as the adapters do. "English" here is a run of three or more Latin words:
names such as CAR-T, SLE, CD19/BCMA, HIV or IVIG and numbers are not sentences.
"""
from __future__ import annotations

import asyncio
import json
import re
from datetime import date

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from prescreen import i18n
from prescreen.i18n import LazyText
from prescreen.screening import wording
from prescreen.screening.conversation import RESPONDENT, RESPONDENTS, Conversation, Screening
from prescreen.screening.durations import DaysAgo
from prescreen.screening.results import results_messages

from conftest import ROOT
from test_clinical_fidelity import CLEAN, K004

TODAY = date(2026, 11, 23)
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’]*(?:[ ,]+[A-Za-z][A-Za-z'’]*){2,}")
NEVER_ZH = ("您符合条件", "您有资格", "符合条件", "有资格参加", "保证")
A_MATCH_FOR_ALL = {RESPONDENT: "choice:self", "condition": "choice:sle", "age": "34", "sex": "choice:female",
                   "refractory": "yes", "diagnosis_when": None}


@pytest.fixture(scope="module")
def conversation(planner):
    return Conversation(planner)


def english_in(texts) -> list[str]:
    return [text for text in texts if ENGLISH_RUN.search(text)]


def message_texts(message) -> list[str]:
    """What the patient reads of one message, as strings (read in the current language)."""
    out = [str(message.text)] if message.text else []
    out += [str(b["title"]) for b in message.buttons]
    if message.custom and message.custom.get("results"):
        payload = message.custom
        out += [payload["summary"], *payload["labels"].values()]
        for card in payload["results"]:
            details = card["details"]
            out += [card["title"], card["verdict_text"], card["message"], card.get("when") or "",
                    details["summary"], *details["notes"], *details["other_reasons"], *details.get("checks", [])]
    return [str(text) for text in out if text]


def screen(conversation, language, answers, typed=(), otherwise="no"):
    """A whole screening in `language`, tapping buttons (payloads) unless the fact is in `typed`.

    Returns the texts read, the button payloads seen, the screening and the results' payload."""
    texts, payloads = [], []
    with i18n.using(language):
        texts.append(wording.welcome_message(conversation.catalog))
        screening = Screening()
        for _ in range(60):
            message = conversation.ask(screening)
            if message is None:
                break
            texts += message_texts(message)
            payloads.append([b["payload"] for b in message.buttons])
            fact = screening.asking[0]
            if screening.pending:
                reply, tapped = "yes", True
            elif screening.group:
                reply, tapped = "choice:none", True
            elif answers.get(fact):
                reply, tapped = answers[fact], fact not in typed
            elif conversation.catalog.facts[fact].type == "time_ago":
                reply, tapped = message.buttons[-2]["payload"], True  # the longest ago
            else:
                reply, tapped = otherwise, True
            for said in conversation.receive(screening, reply, None, TODAY, tapped=tapped):
                texts += message_texts(said)
        results = conversation.results(screening, TODAY)
        for message in results:
            texts += message_texts(message)
        payload = next(m.custom for m in results if m.custom)
        return texts, payloads, screening, json.loads(json.dumps(payload, ensure_ascii=False))


@pytest.mark.parametrize("who", ["self", "guardian", "helper"])
def test_a_whole_chinese_screening_reads_in_chinese(conversation, who):
    texts, _, screening, payload = screen(conversation, "zh", {**A_MATCH_FOR_ALL, RESPONDENT: f"choice:{who}"})
    assert screening.respondent == who
    assert english_in(texts) == []
    assert not any(phrase in text for text in texts for phrase in NEVER_ZH)
    assert texts[0].startswith("您好。这里有5项新型细胞治疗的临床研究") and "“停止”" in texts[0]
    assert "首先，今天是谁在回答问题？" in texts
    assert {"我是患者本人", "我是家长或监护人", "我在帮别人回答", "不确定"} <= set(texts)
    # The cards, as JSON reaches the page: Chinese, not the English the lazy texts hold.
    assert payload["labels"] == {"more": "关于这项研究的更多信息", "checks": "研究团队还会核实的内容",
                                 "other_reasons": "其他原因", "announce_where": "结果卡片在对话下方。"}
    assert payload["summary"] == "谢谢您。您的结果已经出来了。5项研究可能适合。"
    assert {card["verdict_text"] for card in payload["results"]} == {"可能适合"}
    whom = {"self": "这项研究可能适合您。", "guardian": "这项研究可能适合您的孩子。",
            "helper": "这项研究可能适合您所帮助的人。"}[who]
    assert all(card["message"].startswith(whom) for card in payload["results"])
    assert all("地点：" in card["where"] for card in payload["results"])
    assert any("血液和尿液检查" in card["details"].get("checks", []) for card in payload["results"])
    if who == "helper":
        assert any(text.startswith("请按您所帮助的那个人的情况回答。") for text in texts)


def test_one_who_fits_none_reads_why_in_chinese(conversation):
    texts, _, _, payload = screen(conversation, "zh", {RESPONDENT: "choice:self", "condition": "choice:other"})
    assert english_in(texts) == []
    assert payload["summary"] == "谢谢您。您的结果已经出来了。5项研究看起来不适合。"
    assert any("目前这些研究看起来都不适合。您的医生可以和您谈谈其他选择。" in text for text in texts)
    assert {card["verdict_text"] for card in payload["results"]} == {"看起来不适合"}
    wuhan = next(card for card in payload["results"] if card["trial_id"] == "cd19-bcma-car-t-sle-wuhan")
    assert wuhan["message"].startswith("这项研究看起来不适合您。")
    assert wuhan["reason"] == "这项研究是针对系统性红斑狼疮（SLE）的。"


def test_a_typed_exclusion_is_read_back_in_chinese_with_two_chinese_buttons(conversation):
    with i18n.using("zh"):
        screening = Screening(respondent="self")
        conversation.ask(screening)
        assert screening.asking == ["condition"]
        assert conversation.receive(screening, "类风湿关节炎", None, TODAY) == []
        read_back = conversation.ask(screening)
        text, titles = str(read_back.text), [str(b["title"]) for b in read_back.buttons]
        assert text.startswith("确认一下：") and text.endswith("。对吗？") and "其他疾病" in text
        assert titles == ["对，没错", "不对，我要改一下"]
        assert [b["payload"] for b in read_back.buttons] == ["yes", "no"]
        unclear = [str(m.text) for m in conversation.receive(screening, "随便写写", None, TODAY)]
    assert english_in([text, *titles, *unclear]) == []
    assert unclear == ["请点“对，没错”或“不对”，或者重新输入您的回答。"]


def test_a_yes_no_read_back_names_the_answer_in_chinese(conversation):
    fact = conversation.catalog.facts["refractory"]
    with i18n.using("zh"):
        said = wording.said_yes_no(fact.label, False)
        changed = wording.changed_last_answer(fact.label, True)
        question = wording.read_back(said)
    assert said.startswith("您对“") and said.endswith("”的回答是“否”")
    assert question == f"确认一下：{said}。对吗？" and changed.endswith("现在是“是”。")
    assert english_in([said, changed, question]) == []


def test_crisis_support_gives_the_chinese_hotlines_in_chinese(conversation):
    with i18n.using("zh"):
        screening = Screening(respondent="self")
        conversation.ask(screening)
        support = [str(m.text) for m in conversation.receive(screening, "我不想活了", None, TODAY)]
        waiting = conversation.ask(screening)
        waiting_texts = [str(waiting.text), str(waiting.buttons[0]["title"])]
    assert len(support) == 1
    text = support[0]
    assert "全国心理援助热线 12356" in text and "北京心理危机研究与干预中心" in text and "010-82951332" in text
    assert "120" in text and "急诊" in text
    assert english_in(support + waiting_texts) == []
    assert waiting_texts == ["不用着急。准备好了，请点按钮继续。", "准备好了，继续"]
    assert waiting.buttons[0]["payload"] == "choice:continue"


def test_commands_and_hints_answer_in_chinese(conversation):
    with i18n.using("zh"):
        screening = Screening()
        conversation.ask(screening)
        said = [str(m.text) for m in conversation.receive(screening, "随便", None, TODAY)]
        said += [str(m.text) for m in conversation.receive(screening, "为什么", None, TODAY)]
        conversation.receive(screening, "choice:self", None, TODAY, tapped=True)
        conversation.ask(screening)
        said += [str(m.text) for m in conversation.receive(screening, "返回", None, TODAY)]
        conversation.ask(screening)
        conversation.receive(screening, "choice:self", None, TODAY, tapped=True)
        conversation.ask(screening)
        said += [str(m.text) for m in conversation.receive(screening, "重新开始", None, TODAY)]
        said += [str(m.text) for m in conversation.receive(Screening(respondent="self", asking=["age"]),
                                                             "要多久？", None, TODAY)]
        said += [str(m.text) for m in conversation.receive(Screening(respondent="self", asking=["age"]),
                                                             "你是机器人吗？", None, TODAY)]
        said += [str(wording.SMALL_TALK[intent]) for intent in wording.SMALL_TALK]
    assert said[:4] == [
        "请点一个按钮：您是患者本人、家长或监护人，还是在帮别人回答？",
        "这样我才能用合适的方式提问：问您本人，还是问您的孩子。",
        "好的，我们返回上一步。您可以修改上一个回答。",
        "好的，我们从头开始。您之前的回答已清除。",
    ]
    assert said[4].startswith("只需要几分钟") and said[5].startswith("我是自动回复的助手")
    assert english_in(said) == []


def test_time_buttons_days_and_dates_follow_the_language(conversation):
    with i18n.using("zh"):
        periods = [wording.days(n) for n in (1, 3, 14, 60, 365, 1825)]
        day = wording.date_text(date(2027, 1, 12))
        ranges = [label for label, _, _ in conversation._time_ranges("b_cell_therapy_when")]
        words = [str(wording.days_ago(value)) for value in
                 (DaysAgo.exactly(0), DaysAgo.exactly(14), DaysAgo.more_than(365), DaysAgo(0, 90))]
        places = wording.and_list(["杭州", "南京", "武汉"])
    assert periods == ["1天", "3天", "2周", "2个月", "1年", "5年"]
    assert day == "2027年1月12日" and places == "杭州、南京和武汉"
    assert words[:2] == ["今天", "2周前"] and words[3] == "最近3个月内"
    assert ranges[0].startswith("最近") and ranges[-1].endswith("以前") and english_in(ranges) == []
    with i18n.using("en"):
        assert [wording.days(n) for n in (1, 3, 14, 60, 365, 1825)] == [
            "1 day", "3 days", "2 weeks", "2 months", "1 year", "5 years"]
        assert wording.date_text(date(2027, 1, 12)) == "12 January 2027"
        assert wording.and_list(["Hangzhou", "Nanjing", "Wuhan"]) == "Hangzhou, Nanjing and Wuhan"
        assert conversation._time_ranges("b_cell_therapy_when")[0][0].startswith("In the last ")


def test_a_waiting_period_card_gives_its_date_in_chinese(catalog):
    answers = {**CLEAN, "live_vaccine": True, "live_vaccine_when": DaysAgo.exactly(14)}
    with i18n.using("zh"):
        payload = next(m.custom for m in results_messages(catalog, answers, TODAY) if m.custom)
    card = next(card for card in payload["results"] if card["trial_id"] == K004)
    assert card["verdict_text"] == "等待一段时间后可能适合"
    assert card["message"].startswith("这项研究在等待一段时间后可能适合，大约从2026年12月8日起。")
    assert card["when"] == "大约从2026年12月8日起。"
    with i18n.using("en"):
        payload = next(m.custom for m in results_messages(catalog, answers, TODAY) if m.custom)
    card = next(card for card in payload["results"] if card["trial_id"] == K004)
    assert card["message"].startswith("This study may fit after a waiting period, from about 8 December 2026.")


def fixed_texts():
    """Every marked text of wording.py and the respondents, as (name, lazy text)."""
    found = []
    for name, value in vars(wording).items():
        if isinstance(value, LazyText):
            found.append((name, value))
        elif isinstance(value, dict):
            found += [(f"{name}[{key}]", v) for key, v in value.items() if isinstance(v, LazyText)]
        elif isinstance(value, tuple):
            found += [(f"{name}[{i}]", v[0]) for i, v in enumerate(value) if isinstance(v, tuple) and isinstance(v[0], LazyText)]
    return found + [(f"RESPONDENTS[{key}]", v) for key, v in RESPONDENTS.items()]


def test_every_fixed_text_has_chinese_with_no_english_sentence():
    texts = fixed_texts()
    assert len(texts) > 100
    problems = []
    for name, text in texts:
        chinese = text.resolve("zh")
        if text.original.strip(", ;") and (chinese == text.original or ENGLISH_RUN.search(chinese)):
            problems.append(f"{name}: {chinese!r}")
        if any(phrase in chinese for phrase in NEVER_ZH):
            problems.append(f"{name}: promises too much: {chinese!r}")
    assert problems == []
    assert str(wording.LANGUAGE_CHANGED.resolve("zh")) == "好的，我们接下来用中文交流。"


def test_english_is_unchanged(conversation):
    en_texts, en_payloads, _, en_payload = screen(conversation, "en", A_MATCH_FOR_ALL)
    _, zh_payloads, _, zh_payload = screen(conversation, "zh", A_MATCH_FOR_ALL)
    assert en_payloads == zh_payloads  # what Rasa parses does not change with the language
    assert [c["verdict"] for c in en_payload["results"]] == [c["verdict"] for c in zh_payload["results"]]
    assert en_texts[0] == (
        "Hello. I can help you check if one of 5 research studies of new cell treatments might suit you. "
        "The studies are at hospitals in Hangzhou, Nanjing, Wenzhou and Wuhan. I will ask a few short questions, "
        "one at a time. You don't need to give your name to check. This is not medical advice, and only the study "
        'team can decide if you can join. You can type "stop" at any time.')
    assert "First, who is answering today?" in en_texts and "I'm not sure" in en_texts
    assert en_payload["summary"] == "Thank you. Your results are ready. 5 studies may be a match."
    assert en_payload["labels"]["more"] == "More about this study"
    assert all(card["message"].startswith("This study may be a match.") for card in en_payload["results"])
    assert wording.results_in_chat(["possibly_eligible", "possibly_eligible_later", "not_eligible", "not_eligible"]) == (
        "Thank you. Your results are ready. 1 study may be a match, 1 study may fit after a waiting period and "
        '2 studies do not seem to fit. Each study has a short card under "Your results", below the chat. '
        'This is not a decision: only the study team can decide who can join. If an answer was wrong, type "go back" '
        'or "start over".')
    assert "mental health hotline 12356" in wording.CRISIS_SUPPORT
    assert not any(re.search(r"[\u4e00-\u9fff]", text) for text in en_texts if text not in
                   [str(f.label) for f in conversation.catalog.facts.values()])


DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def test_the_welcome_action_speaks_chinese_and_keeps_the_payloads():
    from actions.screening import ActionWelcome

    tracker = Tracker(sender_id="zh-texts", slots={"screening": None, "referral": None, "stage": None, "language": "zh"},
                      latest_message={"text": "你好", "intent": {"name": "greet", "confidence": 1.0}, "entities": []},
                      events=[], paused=False, followup_action=None, active_loop={}, latest_action_name="action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionWelcome().run(dispatcher, tracker, DOMAIN))
    welcome, question = dispatcher.messages
    assert type(welcome["text"]) is str and welcome["text"].startswith("您好。")
    assert question["text"] == "首先，今天是谁在回答问题？"
    assert [(b["title"], b["payload"]) for b in question["buttons"]] == [
        ("我是患者本人", '/inform{"choice": "self"}'), ("我是家长或监护人", '/inform{"choice": "guardian"}'),
        ("我在帮别人回答", '/inform{"choice": "helper"}')]


def test_stop_is_said_in_chinese_as_a_plain_string():
    from actions.screening import ActionStop

    tracker = Tracker(sender_id="zh-texts", slots={"screening": {"respondent": "self"}, "referral": None,
                                                   "stage": "screening", "language": "zh"},
                      latest_message={"text": "停止", "intent": {"name": "stop", "confidence": 1.0}, "entities": []},
                      events=[], paused=False, followup_action=None, active_loop={}, latest_action_name="action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionStop().run(dispatcher, tracker, DOMAIN))
    text = dispatcher.messages[0]["text"]
    assert type(text) is str and text == "好的，已经停止。没有向任何人发送任何内容。如果您以后想再了解，说“你好”就可以。"


def test_a_chinese_card_is_measured_in_words_as_a_reader_counts_them(conversation):
    from prescreen.screening.results import CARD_WORDS, _words

    assert _words("This study may be a match.") == 6  # English as before: words between spaces
    assert _words("这项研究可能适合您。") == 5 and _words("地点：协和医院（武汉）。") == 4
    assert _words("CAR-T 细胞治疗") == 2 + 2
    _, _, _, payload = screen(conversation, "zh", A_MATCH_FOR_ALL)
    assert all(_words(card["message"]) <= CARD_WORDS for card in payload["results"])
