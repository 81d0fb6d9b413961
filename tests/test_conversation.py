"""The screening conversation, turn by turn, through the core (no Rasa)."""
from datetime import date

import pytest

from prescreen.screening import wording
from prescreen.screening.conversation import MAX_TRIES, RESPONDENT, Conversation, Screening
from prescreen.screening.eligibility import evaluate_criterion
from prescreen.screening.factbank import NOT_SURE

TODAY = date(2026, 11, 23)
FORBIDDEN = ("you are eligible", "you're eligible", "you qualify", "you will be accepted", "guaranteed")


@pytest.fixture(scope="module")
def conversation(planner):
    return Conversation(planner)


def chat(conversation, replies, screening=None, intents=None, tapped=False):
    """Play replies against the questions; return the screening and the transcript."""
    screening = screening or Screening()
    transcript = []
    intents = intents or {}
    for i, reply in enumerate(replies):
        question = conversation.ask(screening)
        assert question is not None, f"no question left for reply {reply!r}"
        transcript.append(("bot", question.text, question.buttons))
        transcript.append(("you", reply, None))
        for message in conversation.receive(screening, reply, intents.get(i), TODAY, tapped=tapped):
            transcript.append(("bot", message.text, message.buttons))
    return screening, transcript


def reach(conversation, fact, by_fact=None, screening=None):
    """Answer as a patient who may fit every study until `fact` is asked; the question order may change."""
    by_fact = {RESPONDENT: "me", "condition": "lupus", "refractory": "yes", "age": "34", "sex": "female",
               "diagnosis_when": "more than 3 years ago", **(by_fact or {})}
    screening = screening or Screening()
    for _ in range(40):
        message = conversation.ask(screening)
        assert message is not None, f"{fact} was never asked"
        if fact in screening.asking:
            return screening
        reply = "none of these" if screening.group else by_fact.get(screening.asking[0], "no")
        conversation.receive(screening, reply, None, TODAY)
    raise AssertionError(f"{fact} was never asked")


def texts(transcript):
    return [text for who, text, _ in transcript if who == "bot" and text]


def test_first_question_is_who_is_answering(conversation):
    screening = Screening()
    message = conversation.ask(screening)
    assert message.text == wording.WHO_IS_ANSWERING
    assert [b["payload"] for b in message.buttons] == ["choice:self", "choice:guardian", "choice:helper"]
    assert screening.asking == [RESPONDENT]


def test_parent_gets_questions_about_your_child(conversation):
    screening, transcript = chat(conversation, ["I'm her mother", "lupus"])
    assert screening.respondent == "guardian"
    assert all("your child" in t.lower() for t in texts(transcript)[1:3])


def test_every_closed_question_has_buttons_including_not_sure(conversation):
    screening = Screening(respondent="self")
    for _ in range(20):
        message = conversation.ask(screening)
        if message is None:
            break
        titles = [b["title"] for b in message.buttons]
        assert "I'm not sure" in titles
        fact = conversation.catalog.facts.get(screening.asking[0])
        if fact is not None and fact.type != "number":
            assert len(titles) >= 3
        conversation.receive(screening, "not sure", None, TODAY)
    assert conversation.ask(screening) is None


def answer_everything(conversation, screening, by_fact, otherwise="no"):
    """Answer each question from `by_fact`, checklists with "none of these"."""
    for _ in range(40):
        message = conversation.ask(screening)
        if message is None:
            return screening
        if screening.pending:  # a typed answer that rules a study out is read back: yes, that's right
            reply = "yes"
        else:
            reply = "none of these" if screening.group else by_fact.get(screening.asking[0], otherwise)
        conversation.receive(screening, reply, None, TODAY)
    raise AssertionError("the screening never ended")


@pytest.mark.parametrize("who", ["me", "I'm her mother", "my son", "I am helping my dad"])
def test_who_is_answering(conversation, who):
    screening, _ = chat(conversation, [who])
    assert screening.respondent == {"me": "self", "my son": "guardian", "I am helping my dad": "helper"}.get(who, "guardian")


def test_full_screening_for_a_patient_who_may_fit_several_trials(conversation):
    screening = answer_everything(conversation, Screening(), {
        RESPONDENT: "me", "condition": "lupus", "refractory": "yes", "age": "34",
        "diagnosis_when": "more than 2 years ago", "sex": "female",
    })
    assert len(screening.history) <= 15
    messages = conversation.results(screening)
    payload = next(m.custom for m in messages if m.custom)
    verdicts = {r["trial_id"]: r["verdict"] for r in payload["results"]}
    assert set(verdicts.values()) == {"possibly_eligible"}
    assert len(verdicts) == 5
    for result in payload["results"]:
        assert {c["status"] for c in result["criteria"]} <= {"met", "not_met", "unknown", "verify_site"}
    all_text = " ".join(m.text or "" for m in messages).lower()
    assert "may be a match" in all_text
    assert not any(phrase in all_text for phrase in FORBIDDEN)
    assert "only the study team can decide" in all_text
    assert screening.answers["age"] == {"value": 34, "said": "34"}


def test_wrong_disease_is_told_at_once(conversation):
    screening, transcript = chat(conversation, ["me", "rheumatoid arthritis"])
    assert "Is that right?" in conversation.ask(screening).text  # typed, and it rules every study out: read back
    chat(conversation, ["yes"], screening)
    assert conversation.ask(screening) is None
    messages = conversation.results(screening)
    payload = next(m.custom for m in messages if m.custom)
    assert {r["verdict"] for r in payload["results"]} == {"not_eligible"}
    assert "5 studies do not seem to fit" in messages[0].text and "Your results" in messages[0].text
    wuhan = next(r for r in payload["results"] if r["trial_id"] == "cd19-bcma-car-t-sle-wuhan")
    assert wuhan["reason"] == "This study is for lupus (SLE)."  # the illness first, not "diagnosed 24 weeks ago"


def test_why_explains_and_keeps_the_question(conversation):
    screening, transcript = chat(conversation, ["me", "why do you ask?"], intents={1: "ask_why"})
    assert conversation.catalog.facts["condition"].why in texts(transcript)
    assert screening.asking == ["condition"] and "condition" not in screening.answers


def test_go_back_changes_the_previous_answer_and_verdicts_follow(conversation):
    screening = reach(conversation, "refractory")
    chat(conversation, ["no"], screening, tapped=True)
    assert conversation.ask(screening) is None  # not refractory: every study is out
    assert conversation.receive(screening, "go back", "go_back", TODAY)[0].text == wording.GOING_BACK
    screening, transcript = chat(conversation, ["yes"], screening)
    assert screening.values()["refractory"] is True
    assert conversation.ask(screening) is not None  # studies are open again


def test_start_over_clears_everything(conversation):
    screening, _ = chat(conversation, ["me", "lupus", "start over"], intents={2: "start_over"})
    assert screening.answers == {} and screening.respondent is None


@pytest.mark.parametrize("bad", ["0", "150", "abc", "🙂🙂"])
def test_bad_age_is_asked_again_then_recorded_as_not_sure(conversation, bad):
    screening = reach(conversation, "age")
    screening, transcript = chat(conversation, [bad], screening)
    assert "age" not in screening.answers and screening.asking == ["age"]
    for _ in range(MAX_TRIES - 1):
        screening, transcript = chat(conversation, [bad], screening)
    assert screening.answers["age"]["value"] == NOT_SURE
    assert wording.MOVING_ON in texts(transcript)


def test_long_message_gets_a_clear_answer(conversation):
    screening, transcript = chat(conversation, ["me", "a" * 5000])
    assert "too long" in texts(transcript)[-1]


def test_crisis_disclosure_gets_support_at_once_and_the_screening_continues(conversation):
    screening, transcript = chat(conversation, ["me", "I want to kill myself"])
    assert wording.CRISIS_SUPPORT in texts(transcript)
    assert screening.asking == ["condition"] and "condition" not in screening.answers
    assert conversation.ask(screening) is not None


def test_yes_to_the_suicidal_thoughts_question_brings_crisis_support(conversation):
    screening = Screening(respondent="self")
    screening.asking = ["suicidal_thoughts"]
    messages = conversation.receive(screening, "yes", None, TODAY, tapped=True)
    assert [m.text for m in messages] == [wording.CRISIS_SUPPORT]
    assert screening.values()["suicidal_thoughts"] is True
    pause = conversation.ask(screening)  # nothing else, and no result, until they are ready
    assert pause.text == wording.CONTINUE_WHEN_READY and pause.buttons[0]["title"] == wording.CONTINUE_BUTTON
    assert conversation.receive(screening, "choice:continue", None, TODAY) == []
    assert not screening.paused


def test_medical_question_is_referred_to_the_doctor(conversation):
    screening, transcript = chat(conversation, ["me", "should I stop my steroids?"], intents={1: "medical_question"})
    assert wording.ASK_YOUR_DOCTOR in texts(transcript)
    assert "condition" not in screening.answers


def test_checklist_taps_toggle_items_until_done(conversation):
    screening = reach(conversation, "transplant", {"sex": "male"})
    assert screening.group == "cell_therapies_and_transplants"
    conversation.receive(screening, "choice:item:transplant", None, TODAY)
    conversation.receive(screening, "choice:item:prior_car_t", None, TODAY)
    conversation.receive(screening, "choice:item:prior_car_t", None, TODAY)  # a second tap unticks it
    assert screening.answers.get("transplant") is None and screening.chosen == ["transplant"]
    shown = conversation.ask(screening)
    assert "✓" in shown.text and "Chosen so far" in shown.text
    titles = [b["title"] for b in shown.buttons]
    assert "✓ An organ, stem cell or bone marrow transplant" in titles and wording.DONE_BUTTON in titles
    conversation.receive(screening, "choice:done", None, TODAY)
    assert screening.values()["transplant"] is True and screening.values()["prior_car_t"] is False
    conversation.ask(screening)
    assert screening.chosen == [] and "transplant" not in screening.asking


def test_time_question_buttons_decide_exactly(conversation):
    screening = Screening(respondent="self")
    screening.answers = {"live_vaccine": {"value": True, "said": "yes"}}
    screening.asking = ["live_vaccine_when"]
    buttons = conversation._buttons(conversation.catalog.facts["live_vaccine_when"])
    assert [b["title"] for b in buttons] == ["In the last 4 weeks", "More than 4 weeks ago", "I'm not sure"]
    conversation.receive(screening, buttons[1]["payload"], None, TODAY)
    assert screening.answers["live_vaccine_when"]["said"] == "More than 4 weeks ago"
    live = next(c for c in conversation.catalog.trial("NCT06421701").criteria if c.id == "exc-live-vaccine")
    assert evaluate_criterion(live, screening.values()) == "not_met"


def test_state_round_trips_through_json(conversation):
    import json

    screening = reach(conversation, "pregnant")
    conversation.receive(screening, "choice:item:pregnant", None, TODAY)
    again = Screening.from_json(json.loads(json.dumps(screening.to_json())))
    assert again.values() == screening.values()
    assert again.history == screening.history and again.chosen == ["pregnant"]


def test_a_command_intent_without_its_words_is_taken_as_an_answer(conversation):
    """If NLU mistakes "lupus" for "go back", the answer still counts."""
    screening, transcript = chat(conversation, ["me", "lupus"], intents={1: "go_back"})
    assert screening.values()["condition"] == "sle"
    assert wording.GOING_BACK not in texts(transcript)


def test_an_answer_classified_as_a_medical_question_still_counts(conversation):
    screening, transcript = chat(conversation, ["me", "I have lupus"], intents={1: "medical_question"})
    assert screening.values()["condition"] == "sle"


def test_a_message_after_the_last_question_changes_nothing(conversation):
    screening = answer_everything(conversation, Screening(), {RESPONDENT: "me", "condition": "rheumatoid arthritis"})
    if screening.pending:
        conversation.receive(screening, "yes", "affirm", TODAY)
    before = screening.to_json()
    assert conversation.receive(screening, "yes", "affirm", TODAY) == []
    assert screening.to_json() == before
