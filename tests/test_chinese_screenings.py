"""Whole screenings in Chinese through the REST channel, from the patient's side (issue 15, item 6).

Each test is one patient, in a conversation of its own, against the real action server and Rasa server
(`assistant`, conftest.py). Every message carries the REST metadata {"language": "zh"} and the
conversation opens with Chinese text (except in the two tests of how the language is set). The replies
are typed as people type them (三十四岁, 两年前, 第一个和第三个, 都没有, 不是，我打错了 ...).
What the assistant understood is read from what it stored: the screening's answers and per-study
verdicts in the screenings database, and the conversation's slots in the tracker store. Every text the
assistant sends must be Chinese: Chinese characters and no English words, buttons and result cards included.

Verdicts follow the listings (trials/*.yml): the children's study in Hangzhou takes patients aged 5 and over
with no upper limit; Wuhan takes 18 to 70, Wenzhou and the CAR-NK study 18 to 65; the Nanjing listing gives no
age limits and no criteria beyond refractory lupus, so only the illness and its treatment can rule it out.
"""
from __future__ import annotations

import json
import re
import uuid

import pytest
import requests

from servers import query
from utterance_suite import read_state

ZH = {"language": "zh"}
TRIALS = {"cd19-car-t-sle-children-hangzhou", "ultra-fast-cd19-car-t-sle-nanjing", "cd19-bcma-car-t-sle-wuhan",
          "NCT06420154", "NCT06421701"}
AGE_LIMITED = {"cd19-bcma-car-t-sle-wuhan", "NCT06420154", "NCT06421701"}  # adults only
MAY, NOT = "possibly_eligible", "not_eligible"
CJK = re.compile(r"[\u4e00-\u9fff]")
# English words in a Chinese text: two or more in a row ("Thank you", "I'm not sure"), or a lone word of the
# assistant's own ("Yes", "Done", "stop"). Drug names and acronyms such as "CAR-T", "HIV",
# "loncastuximab（Zynlonta）" stand alone in Chinese text and do not match.
ENGLISH_SENTENCE = re.compile(r"(?<![A-Za-z])(?:[A-Za-z][a-z']+(?:[ ,]+[A-Za-z]?[a-z']+)+"
                              r"|(?:Yes|No|Done|OK|Ok|Please|Sorry|None|Thanks?|Hello|Hi|yes|no|stop|skip|done)"
                              r"(?![A-Za-z]))")
PROMISES = ("您符合条件", "您有资格", "you are eligible")
READ_BACK = {"/affirm", "/deny"}  # a read-back's two buttons ("yes, that's right" / "no, let me change it")


class Chat:
    """One patient's conversation: every message with {"language": "zh"}; what was said and shown is kept."""

    def __init__(self, assistant, name: str, sender: str | None = None):
        self.assistant = assistant
        self.sender = sender or f"zh-{name}-{uuid.uuid4().hex[:8]}"
        self.transcript: list[tuple[str, list[dict]]] = []
        self.asked: list[tuple[str, str]] = []  # (what was on screen, what the patient typed)

    def send(self, text: str) -> list[dict]:
        response = requests.post(self.assistant.url + "/webhooks/rest/webhook",
                                 json={"sender": self.sender, "message": text, "metadata": ZH},
                                 headers=self.assistant.rest_headers, timeout=60)
        response.raise_for_status()
        messages = response.json()
        self.transcript.append((text, messages))
        return messages

    def state(self):
        return read_state(self.assistant.workdir / "tracker.db", self.sender)

    @property
    def db(self):
        return self.assistant.workdir / "prescreen.db"

    def screening_ids(self) -> list[str]:
        return [r[0] for r in query(self.db, "select id from screenings where conversation_id = ?", self.sender)]

    def verdicts(self) -> dict[str, str]:
        """The per-study verdicts stored for this conversation's screening."""
        return dict(query(self.db, "select r.trial_id, r.verdict from trial_results r join screenings s "
                                   "on s.id = r.screening_id where s.conversation_id = ?", self.sender))

    def answers(self) -> dict:
        """fact -> stored value (JSON decoded)."""
        rows = query(self.db, "select a.fact, a.value from answers a join screenings s on s.id = a.screening_id "
                              "where s.conversation_id = ?", self.sender)
        return {fact: json.loads(value) if isinstance(value, str) else value for fact, value in rows}

    def respondent(self):
        rows = query(self.db, "select respondent from screenings where conversation_id = ?", self.sender)
        return rows[0][0] if rows else None

    def texts(self) -> list[str]:
        return [m["text"] for _, messages in self.transcript for m in messages if m.get("text")]

    def all_text(self) -> str:
        return "\n".join(self.texts())


def last_text(messages: list[dict]) -> str:
    texts = [m["text"] for m in messages if m.get("text")]
    return texts[-1] if texts else ""


def buttons(messages: list[dict]) -> list[dict]:
    with_buttons = [m for m in messages if m.get("buttons")]
    return with_buttons[-1]["buttons"] if with_buttons else []


def results_of(messages: list[dict]):
    found = [m["custom"] for m in messages if isinstance(m.get("custom"), dict) and m["custom"].get("results")]
    return found[0]["results"] if found else None


def screen(chat: Chat, answers: dict, read_back="是的", first="你好", limit=45, until=None):
    """Answer as this patient until the results come: `answers` maps a fact id or a checklist (group) id to
    what the patient types (a list: one reply each time it is asked, the last one kept); facts not listed
    get "没有". At a read-back the patient types `read_back` (a list works the same way). Returns the
    results' payload and the reply that carried it; with `until` (a fact id), stops when that question is
    on screen and returns (None, its reply)."""
    answers = {k: list(v) if isinstance(v, list) else [v] for k, v in answers.items()}
    read_backs = list(read_back) if isinstance(read_back, list) else [read_back]

    def take(replies: list[str]) -> str:
        return replies.pop(0) if len(replies) > 1 else replies[0]

    messages = chat.send(first)
    for _ in range(limit):
        payload = results_of(messages)
        if payload:
            return payload, messages
        state = chat.state()
        assert state.stage == "screening", f"left the screening before the results: {last_text(messages)!r}"
        if until and state.asking == [until] and not state.screening.get("pending"):
            return None, messages
        if state.screening.get("pending") or {b["payload"] for b in buttons(messages)} == READ_BACK:
            where, reply = "read-back", take(read_backs)
        elif state.screening.get("group"):
            where = state.screening["group"]
            reply = take(answers.get(where, ["都没有"]))
        else:
            where = state.asking[0] if state.asking else "?"
            reply = take(answers.get(where, ["没有"]))
        chat.asked.append((where, reply))
        messages = chat.send(reply)
    raise AssertionError(f"no results after {limit} messages; asked {chat.asked}; last {last_text(messages)!r}")


def assert_all_chinese(chat: Chat, payload=None):
    """Every text and button the assistant sent is Chinese, and nothing promises a place."""
    problems = []
    for said, messages in chat.transcript:
        for m in messages:
            text = m.get("text") or ""
            if text and (not CJK.search(text) or ENGLISH_SENTENCE.search(text)):
                problems.append(f"after {said!r}: {text[:140]!r}")
            for b in m.get("buttons") or []:
                if not CJK.search(b.get("title", "")):
                    problems.append(f"after {said!r}: button {b.get('title')!r}")
    for result in payload or []:
        for field in ("title", "message", "reason", "where", "next"):
            value = result.get(field)
            if isinstance(value, str) and value and (not CJK.search(value) or ENGLISH_SENTENCE.search(value)):
                problems.append(f"result card {result['trial_id']} {field}: {value[:140]!r}")
    said = chat.all_text() + json.dumps(payload or [], ensure_ascii=False)
    problems += [f"promises a place: {p!r}" for p in PROMISES if p in said]
    assert not problems, f"{len(problems)} texts not in Chinese:\n" + "\n".join(problems[:40])


def assert_language_slot(chat: Chat):
    assert chat.state().slots.get("language") == "zh"


def assert_stored(chat: Chat, expected: dict):
    """The answers stored are these (for the facts named), and no fact is stored as yes unless expected."""
    stored = chat.answers()
    wrong = {f: (stored.get(f, "<missing>"), v) for f, v in expected.items() if stored.get(f, "<missing>") != v}
    assert not wrong, f"stored (got, wanted): {wrong}; everything stored: {stored}"
    unasked_yes = [f for f, v in stored.items() if v is True and expected.get(f) is not True]
    assert not unasked_yes, f"stored as yes, never said yes: {unasked_yes}; stored: {stored}"


def days_within(value, low: int, high: int | None) -> bool:
    """A stored "how long ago" (days_ago range) lying within [low, high] days (high None: open-ended)."""
    if not isinstance(value, dict) or "days_ago" not in value:
        return False
    a, b = value["days_ago"]
    if a is None or a < low:
        return False
    return b is None if high is None else (b is not None and a <= b <= high)


# --- a parent answering for a child --------------------------------------------------------------------------

CHILD = {
    "respondent": "我是孩子的家长",
    "condition": "红斑狼疮",
    "refractory": "是的，吃了激素还是反复",
    "diagnosis_when": "两年前",
    "sex": "女孩",
    "pregnancy": "都没有",
    "cell_therapies_and_transplants": "都没有",
    "recent_events": "没有",
    "health_history": "以上都没有",
    "treatments": "这些都没用过",
    "dialysis": "从来没有",
    "suicidal_thoughts": "没有",
}


@pytest.mark.parametrize("typed, age, children_study", [
    ("九岁", 9, MAY),
    ("刚满5周岁", 5, MAY),  # the children's study: "Age: ≥5 years old"
    ("4岁", 4, NOT),
])
def test_a_parent_answers_for_a_child(assistant, typed, age, children_study):
    chat = Chat(assistant, f"child-{age}")
    payload, _ = screen(chat, {**CHILD, "age": typed}, read_back="对")
    verdicts = {r["trial_id"]: r["verdict"] for r in payload}
    expected = {"cd19-car-t-sle-children-hangzhou": children_study, "ultra-fast-cd19-car-t-sle-nanjing": MAY,
                **{t: NOT for t in AGE_LIMITED}}
    assert verdicts == expected
    assert chat.verdicts() == expected  # what was stored is what was shown
    assert chat.respondent() == "guardian"
    assert_stored(chat, {"condition": "sle", "refractory": True, "age": age})
    assert days_within(chat.answers()["diagnosis_when"], 700, 760)
    # The questions speak of the child ("您的孩子"), never of the parent's own illness.
    questions = [t for t in chat.texts() if "？" in t or "?" in t]
    age_question = next(t for t in questions if "多少岁" in t)
    assert "孩子" in age_question
    assert "pregnant" not in chat.answers()  # a child under 10 is not asked about pregnancy
    assert_language_slot(chat)
    # The reason a study does not fit is its age limit, said in Chinese.
    for result in payload:
        if result["verdict"] == NOT:
            limit = "5" if result["trial_id"] == "cd19-car-t-sle-children-hangzhou" else "18"
            assert limit in result["message"] and "岁" in result["message"], result["message"]
    assert_all_chinese(chat, payload)


# --- an adult who may fit several studies ---------------------------------------------------------------------

def test_an_adult_who_may_fit_every_study(assistant):
    chat = Chat(assistant, "adult-all")
    payload, _ = screen(chat, {
        "respondent": "我本人",
        "condition": "系统性红斑狼疮",
        "refractory": "是的",
        "diagnosis_when": "2019年",
        "age": "三十四岁",
        "sex": "女",
        "pregnancy": "都没有",
        "cell_therapies_and_transplants": "从来没有",
        "recent_events": "第一个和第三个",  # a live vaccine and a major operation, both long enough ago
        "live_vaccine_when": "十个月前",
        "major_surgery_when": "五个月前",
        "health_history": "都没有",
        "treatments": "2和3",  # a JAK inhibitor and cyclophosphamide
        "jak_btk_inhibitor_when": "两年前",
        "chemo_drug_when": "2019年",
        "suicidal_thoughts": "从来没有",
    })
    assert {r["trial_id"]: r["verdict"] for r in payload} == {t: MAY for t in TRIALS}
    assert chat.verdicts() == {t: MAY for t in TRIALS}
    assert_stored(chat, {
        "condition": "sle", "refractory": True, "age": 34, "sex": "female", "pregnant": False,
        "breastfeeding": False, "prior_car_t": False, "transplant": False, "live_vaccine": True,
        "clinical_trial": False, "major_surgery": True, "surgery_planned": False, "cancer": False, "hiv": False,
        "jak_btk_inhibitor": True, "chemo_drug": True, "b_cell_therapy": False, "suicidal_thoughts": False})
    stored = chat.answers()
    assert days_within(stored["live_vaccine_when"], 280, 320)
    assert days_within(stored["major_surgery_when"], 130, 170)
    assert days_within(stored["jak_btk_inhibitor_when"], 700, 760)
    for fact in ("diagnosis_when", "chemo_drug_when"):  # "2019年": within 2019, a few days' slack
        assert days_within(stored[fact], 2527 - 3, 2891 + 3), (fact, stored[fact])
    assert_language_slot(chat)
    texts = chat.all_text()
    assert "可能适合" in texts  # a study "may be a match"; the study team decides
    assert "研究团队" in texts
    assert_all_chinese(chat, payload)


def test_yes_and_no_typed_in_many_ways(assistant):
    """不是 / 不知道 / 记不清了 / 没有: a hedge is "not sure" and never rules a study out; a typed checklist
    answer that rules one out (surgery planned: the CAR-NK study takes no planned surgery) is read back."""
    chat = Chat(assistant, "adult-ways")
    payload, _ = screen(chat, {
        "respondent": "是我自己",
        "condition": "狼疮",
        "refractory": "对，一直控制不住",
        "diagnosis_when": "一年多以前",
        "age": "45周岁",
        "sex": "男的",
        "cell_therapies_and_transplants": "没有",
        "recent_events": "1和4",  # a live vaccine, and an operation planned
        "live_vaccine_when": "去年",
        "surgery_planned_major": "不是",  # a small one
        "health_history": "不知道",
        "treatments": "记不清了",
        "suicidal_thoughts": "没有",
    })
    verdicts = {r["trial_id"]: r["verdict"] for r in payload}
    assert verdicts == {**{t: MAY for t in TRIALS}, "NCT06421701": NOT}
    assert chat.verdicts() == verdicts
    assert ("read-back", "是的") in chat.asked  # the planned surgery ruled a study out: read back first
    stored = chat.answers()
    assert_stored(chat, {"condition": "sle", "refractory": True, "age": 45, "sex": "male", "live_vaccine": True,
                         "surgery_planned": True, "surgery_planned_major": False, "clinical_trial": False,
                         "major_surgery": False, "prior_car_t": False, "suicidal_thoughts": False})
    assert stored.get("cancer") == "not_sure" and stored.get("hiv") == "not_sure"  # 不知道: not sure, not no
    assert stored.get("b_cell_therapy") in ("not_sure", None)  # 记不清了: never a yes or a no
    assert days_within(stored["diagnosis_when"], 365, None)  # 一年多以前: more than a year, open-ended
    assert days_within(stored["live_vaccine_when"], 300, 760)  # 去年: last calendar year
    assert "pregnant" not in stored  # a man is not asked about pregnancy
    assert_language_slot(chat)
    assert_all_chinese(chat, payload)


# --- one who fits none -------------------------------------------------------------------------------------

@pytest.mark.parametrize("illness", ["类风湿关节炎", "我得的是糖尿病"])
def test_another_illness_finds_out_in_a_few_questions(assistant, illness):
    chat = Chat(assistant, "none")
    payload, messages = screen(chat, {"respondent": "我自己", "condition": illness}, read_back="对")
    assert {r["trial_id"]: r["verdict"] for r in payload} == {t: NOT for t in TRIALS}
    assert chat.verdicts() == {t: NOT for t in TRIALS}
    assert len(chat.asked) <= 3, chat.asked  # who is answering, the illness, its read-back
    assert_stored(chat, {"condition": "other"})
    assert set(chat.answers()) == {"condition"}  # nothing else was asked, so nothing else is stored
    assert_language_slot(chat)
    assert "医生" in " ".join(m.get("text", "") for m in messages)  # their own doctor can talk about options
    assert_all_chinese(chat, payload)


# --- a typed exclusion, read back -----------------------------------------------------------------------------

ADULT = {
    "respondent": "我本人", "condition": "红斑狼疮", "refractory": "是的", "diagnosis_when": "三年前",
    "age": "三十八", "sex": "女", "pregnancy": "都没有", "cell_therapies_and_transplants": "都没有",
    "recent_events": "都没有", "treatments": "都没有", "suicidal_thoughts": "没有",
}


def test_a_typed_exclusion_is_read_back_and_confirmed(assistant):
    chat = Chat(assistant, "hiv-yes")
    payload, _ = screen(chat, {**ADULT, "health_history": "有，我是HIV阳性"}, read_back="是的")
    read_back_turn = next(messages for said, messages in chat.transcript if said == "有，我是HIV阳性")
    assert "HIV" in last_text(read_back_turn) and {b["payload"] for b in buttons(read_back_turn)} == READ_BACK
    verdicts = {r["trial_id"]: r["verdict"] for r in payload}
    # Every listing but Nanjing's (which gives no criteria) excludes HIV.
    assert verdicts == {**{t: NOT for t in TRIALS}, "ultra-fast-cd19-car-t-sle-nanjing": MAY}
    assert chat.verdicts() == verdicts
    assert_stored(chat, {"hiv": True, "cancer": False, "condition": "sle", "refractory": True, "age": 38})
    assert_language_slot(chat)
    for result in payload:
        if result["verdict"] == NOT:
            assert "HIV" in result["message"], result["message"]
    assert_all_chinese(chat, payload)


def test_a_corrected_read_back_does_not_exclude(assistant):
    chat = Chat(assistant, "hiv-typo")
    payload, _ = screen(chat, {**ADULT, "health_history": ["有，我是HIV阳性", "都没有"]},
                        read_back=["不是，我打错了", "是的"])
    position = chat.asked.index(("read-back", "不是，我打错了"))
    assert chat.asked[position + 1] == ("health_history", "都没有")  # the same checklist, asked again
    assert {r["trial_id"]: r["verdict"] for r in payload} == {t: MAY for t in TRIALS}
    assert chat.verdicts() == {t: MAY for t in TRIALS}
    assert_stored(chat, {"hiv": False, "cancer": False, "condition": "sle", "refractory": True, "age": 38})
    assert_language_slot(chat)
    assert_all_chinese(chat, payload)


# --- commands in Chinese mid-screening -----------------------------------------------------------------------

def start(chat: Chat) -> None:
    chat.send("你好")
    chat.send("我本人")
    assert chat.state().asking == ["condition"]


def test_why_and_go_back(assistant):
    chat = Chat(assistant, "why-back")
    start(chat)
    why = chat.send("为什么")
    assert "每项研究只针对某些疾病" in " ".join(m.get("text", "") for m in why)  # the bank's why_zh
    assert chat.state().asking == ["condition"] and "condition" not in (chat.state().screening.get("answers") or {})
    chat.send("红斑狼疮")
    assert chat.state().asking == ["refractory"]
    chat.send("返回")
    state = chat.state()
    assert state.asking == ["condition"]
    chat.send("干燥综合征")  # a new answer replaces the old one (read back: it rules four studies out)
    chat.send("是的")
    state = chat.state()
    assert state.screening["answers"]["condition"]["value"] == "sjogren" and state.asking != ["condition"]
    # A question about the illness is for a doctor or the study team, not "why do you ask?"
    asking = state.asking
    reply = chat.send("为什么我会得这个病")
    assert chat.state().asking == asking
    assert_language_slot(chat)
    assert re.search("医生|研究团队", " ".join(m.get("text", "") for m in reply))  # who can answer it (no advice)
    assert_all_chinese(chat)


def test_start_over_clears_the_answers(assistant):
    chat = Chat(assistant, "restart")
    start(chat)
    for reply in ("红斑狼疮", "是的", "两年前"):
        chat.send(reply)
    assert chat.state().asking == ["age"]
    chat.send("重新开始")
    state = chat.state()
    assert state.stage == "screening" and state.asking == ["respondent"] and not state.screening.get("answers")
    chat.send("我是孩子的家长")
    assert chat.state().screening.get("respondent") == "guardian" and chat.state().asking == ["condition"]
    assert_language_slot(chat)
    assert_all_chinese(chat)


def test_delete_my_data_asks_first_and_only_a_yes_erases(assistant):
    chat = Chat(assistant, "erase")
    start(chat)
    chat.send("红斑狼疮")
    tracker = assistant.workdir / "tracker.db"
    asked = chat.send("删除我的数据")
    assert chat.state().stage == "erase"
    chat.send("不要")  # not a yes: nothing is erased, the screening goes on
    state = chat.state()
    assert state.events > 0 and state.stage == "screening" and state.asking == ["refractory"]
    assert state.screening["answers"]["condition"]["value"] == "sle"
    chat.send("删除我的数据")
    assert chat.state().stage == "erase"
    done = chat.send("是的，删除")
    assert query(tracker, "select count(*) from events where sender_id = ?", chat.sender) == [(0,)]
    assert chat.screening_ids() == []
    assert "删除" in last_text(asked) and "删除" in last_text(done)  # says what will be erased, then that it was
    assert_all_chinese(chat)


def test_stop_ends_the_screening(assistant):
    chat = Chat(assistant, "stop")
    start(chat)
    chat.send("红斑狼疮")
    stopped = chat.send("停止")
    assert chat.state().stage is None
    assert chat.screening_ids() == [] or chat.verdicts() == {}  # no results were made
    assert_language_slot(chat)
    assert CJK.search(last_text(stopped))
    assert_all_chinese(chat)


# --- the language travels with the conversation ----------------------------------------------------------------

def test_the_rest_metadata_alone_makes_the_conversation_chinese(assistant):
    """The first message has no Chinese in it ("hi", then a tapped button): the metadata decides."""
    chat = Chat(assistant, "metadata")
    welcome = chat.send("hi")
    assert CJK.search(last_text(welcome)), last_text(welcome)
    chat.send('/inform{"choice": "self"}')
    assert chat.state().asking == ["condition"]
    assert_language_slot(chat)
    assert_all_chinese(chat)


def test_the_language_can_be_asked_for_mid_conversation_and_the_answers_are_kept(assistant):
    """An English conversation (no metadata), then "请用中文": the same question again, in Chinese."""
    sender = f"zh-switch-{uuid.uuid4().hex[:8]}"
    assistant.say(sender, "hello")
    assistant.say(sender, "I am the patient")
    assistant.say(sender, "lupus")
    tracker = assistant.workdir / "tracker.db"
    assert read_state(tracker, sender).asking == ["refractory"]
    switched = assistant.say(sender, "请用中文")
    state = read_state(tracker, sender)
    assert state.slots.get("language") == "zh" and state.asking == ["refractory"]
    assert state.screening["answers"]["condition"]["value"] == "sle"  # the answers are kept
    assert "仍然活动" in last_text(switched)  # the question on screen, asked again in Chinese
    chat = Chat(assistant, "switch", sender=sender)  # judged from the switch on
    chat.transcript.append(("请用中文", switched))
    chat.send("是的")
    assert read_state(tracker, sender).screening["answers"]["refractory"]["value"] is True
    assert_all_chinese(chat)


# --- crisis support, in Chinese -------------------------------------------------------------------------------

HOTLINES = ("12356", "010-82951332", "120")


def test_crisis_words_mid_screening_get_support_at_once_and_the_screening_goes_on(assistant):
    chat = Chat(assistant, "crisis-words")
    start(chat)
    chat.send("红斑狼疮")
    assert chat.state().asking == ["refractory"]
    support = chat.send("我不想活了")
    state = chat.state()
    assert all(number in " ".join(m.get("text", "") for m in support) for number in HOTLINES)
    assert "refractory" not in (state.screening.get("answers") or {})  # nothing is taken as an answer
    chat.send("准备好了，继续")
    assert chat.state().asking == ["refractory"] and chat.state().stage == "screening"
    assert_language_slot(chat)
    assert_all_chinese(chat)


def test_a_yes_to_the_question_about_ending_ones_life_brings_support_first(assistant):
    chat = Chat(assistant, "crisis-yes")
    _, asked = screen(chat, ADULT, until="suicidal_thoughts")
    assert "结束自己生命" in last_text(asked)
    support = chat.send("有过")
    assert all(number in " ".join(m.get("text", "") for m in support) for number in HOTLINES)
    messages = chat.send("继续")
    for _ in range(3):  # a read-back of the typed yes (it rules the Wuhan study out), then the results
        if results_of(messages):
            break
        messages = chat.send("是的")
    payload = results_of(messages)
    assert payload, last_text(messages)
    verdicts = {r["trial_id"]: r["verdict"] for r in payload}
    assert verdicts == {**{t: MAY for t in TRIALS}, "cd19-bcma-car-t-sle-wuhan": NOT}  # "within the past year"
    assert chat.verdicts() == verdicts
    assert_stored(chat, {"suicidal_thoughts": True, "refractory": True, "condition": "sle", "age": 38})
    assert_language_slot(chat)
    assert_all_chinese(chat, payload)


# --- after the results: one study team, a Chinese consent, details in Chinese ---------------------------------

def test_a_patient_chooses_a_study_team_and_consents_in_chinese(assistant):
    chat = Chat(assistant, "consent")
    payload, _ = screen(chat, ADULT)
    assert {r["trial_id"]: r["verdict"] for r in payload} == {t: MAY for t in TRIALS}
    consent = chat.send("武汉那个")
    state = chat.state()
    assert state.stage == "contact" and state.referral.get("step") == "consent"
    assert state.referral.get("trial") == "cd19-bcma-car-t-sle-wuhan"
    consent_text = last_text(consent)
    assert "武汉" in consent_text and "删除我的数据" in consent_text  # to whom, and how to withdraw
    assert "HIV" in consent_text and "自杀" in consent_text  # the sensitive topics this patient was asked
    for reply in ("同意", "李伟", "138 0013 8000", "跳过", "上午", "普通话", "不用了"):
        chat.send(reply)
    [screening_id] = chat.screening_ids()
    consents = query(chat.db, "select trial_id, language, version, text from consents where screening_id = ?",
                     screening_id)
    assert [(t, lang) for t, lang, _, _ in consents] == [("cd19-bcma-car-t-sle-wuhan", "zh")]
    assert consents[0][2] and consents[0][3].strip() in consent_text  # versioned; exactly the text read
    handoffs = query(chat.db, "select trial_id, site_id, contact_name, contact_phone, contact_email, preferred_time, "
                              "language from handoffs where screening_id = ?", screening_id)
    assert len(handoffs) == 1
    trial, site, name, phone, email, time_of_day, language = handoffs[0]
    assert (trial, site, name, email) == ("cd19-bcma-car-t-sle-wuhan", "wuhan-union", "李伟", None)
    assert re.sub(r"\D", "", phone).endswith("13800138000")
    assert "morning" in (time_of_day or "").lower() or "上午" in (time_of_day or "")
    assert "mandarin" in (language or "").lower() or "普通话" in (language or "")
    assert_language_slot(chat)
    assert_all_chinese(chat, payload)
