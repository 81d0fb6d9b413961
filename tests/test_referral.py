"""The contact steps after the results: offer, consent, details, withdrawal (core, no Rasa)."""
import pytest

from prescreen.screening import wording
from prescreen.screening.conversation import RESPONDENT, Conversation, Screening
from prescreen.referral.conversation import ReferralConversation, start_referral

from test_conversation import answer_everything


@pytest.fixture(scope="module")
def referral_chat(catalog):
    return ReferralConversation(catalog)


def play(referral_chat, referral, replies, respondent="self"):
    said, handoffs = [], []
    for reply in replies:
        question = referral_chat.ask(referral, respondent)
        said.append(question.text if question else None)
        turn = referral_chat.receive(referral, reply, respondent)
        said += [m.text for m in turn.messages]
        if turn.handoff:
            handoffs.append(turn.handoff)
    return said, handoffs


DETAILS = ["Li Wei", "+86 138 0013 8000", "li@example.org", "choice:morning", "choice:mandarin", "skip"]


def test_one_question_lists_every_study_that_may_fit(catalog, referral_chat, adult):
    referral = start_referral(catalog, adult, "s1")
    assert referral.offers == [t.id for t in catalog.trials] and referral.step == "choose"
    question = referral_chat.ask(referral, "self")
    assert "Which study teams may contact you?" in question.text
    assert [b["payload"] for b in question.buttons] == [f"choice:offer:{t.id}" for t in catalog.trials] + ["choice:none"]
    referral_chat.receive(referral, f"choice:offer:{catalog.trials[2].id}", "self")
    referral_chat.receive(referral, f"choice:offer:{catalog.trials[0].id}", "self")
    question = referral_chat.ask(referral, "self")
    assert question.buttons[-1]["title"] == wording.DONE_BUTTON and question.buttons[0]["title"].startswith("✓ ")
    referral_chat.receive(referral, "choice:done", "self")
    assert referral.step == "consent" and referral.trial == catalog.trials[0].id
    assert referral.queue == [catalog.trials[2].id]  # one consent per chosen site, in the listed order


def test_consent_then_details_make_one_handoff(catalog, referral_chat, adult):
    referral = start_referral(catalog, adult, "s1")
    said, handoffs = play(referral_chat, referral, ["2", "yes", *DETAILS])
    consent = said[1]
    site = catalog.trials[1].sites[0]
    assert "will send your answers" in consent and f"study team at {site.name} in {site.city}" in consent
    assert "delete my data" in consent and "version" not in consent.lower()
    first = catalog.trials[1].id
    [handoff] = handoffs
    assert handoff.trial_id == first
    assert handoff.contact.name == "Li Wei" and handoff.contact.phone == "+8613800138000"
    assert handoff.contact.email == "li@example.org" and handoff.contact.preferred_time == "Morning (9-12)"
    assert handoff.contact.medicines is None and referral.finished


def test_nothing_identifying_is_asked_before_an_explicit_yes(catalog, referral_chat, adult):
    for answer, step in (("no", "offer"), ("no thanks", "offer"), ("maybe", "consent"), ("I'm not sure", "consent"),
                         ("what happens to my data?", "consent"), ("hmm", "consent"), ("I never agreed", "offer")):
        referral = start_referral(catalog, adult, "s1")
        said, handoffs = play(referral_chat, referral, ["1", answer])
        assert handoffs == [] and referral.contact == {}
        step = "done" if step == "offer" else step
        assert referral.step == step, answer  # only an explicit no moves on; nothing else asks for a name
        assert not any("name" in (s or "").lower() for s in said)


def test_declining_the_offer_sends_nothing(catalog, referral_chat, adult):
    referral = start_referral(catalog, adult, "s1")
    said, handoffs = play(referral_chat, referral, ["no"])
    assert handoffs == [] and referral.finished
    assert "Nothing has been sent" in referral_chat.closing(referral).text


@pytest.mark.parametrize("bad_phone", ["12", "call me", "<script>", "1" * 30])
def test_bad_phone_is_asked_again(catalog, referral_chat, adult, bad_phone):
    referral = start_referral(catalog, adult, "s1")
    said, _ = play(referral_chat, referral, ["1", "yes", "Li Wei", bad_phone])
    assert "phone number" in said[-1] and referral.step == "phone" and "phone" not in referral.contact


@pytest.mark.parametrize("bad_email", ["li@", "li at example dot org", "<li@x.org>", "a b@c.de"])
def test_bad_email_is_asked_again(catalog, referral_chat, adult, bad_email):
    referral = start_referral(catalog, adult, "s1")
    said, _ = play(referral_chat, referral, ["1", "yes", "Li Wei", "skip", bad_email])
    assert "email address" in said[-1] and referral.step == "email" and "email" not in referral.contact


@pytest.mark.parametrize("typed, stored", [("weekday mornings", "Morning (9-12)"), ("after 3pm", "after 3pm"),
                                           ("weekends 10-12", "weekends 10-12")])
def test_a_time_with_digits_is_kept_as_typed(catalog, referral_chat, adult, typed, stored):
    """It was refused as if it were a name ("Please choose one of the buttons"): the question takes free text."""
    referral = start_referral(catalog, adult, "s1")
    play(referral_chat, referral, ["1", "yes", "Li Wei", "skip", "li@example.org", typed])
    assert referral.contact["preferred_time"] == stored and referral.step == "language"


def test_phone_or_email_is_required(catalog, referral_chat, adult):
    referral = start_referral(catalog, adult, "s1")
    said, _ = play(referral_chat, referral, ["1", "yes", "Li Wei", "skip", "skip"])
    assert "phone number or an email" in said[-1]


def test_second_study_reuses_the_details_after_its_own_consent(catalog, referral_chat, adult):
    referral = start_referral(catalog, adult, "s1")
    _, handoffs = play(referral_chat, referral, ["1 and 2", "yes", "Li Wei", "skip", "li@example.org", "any time",
                                                 "English", "methotrexate and prednisone 5 mg", "yes"])
    assert [h.trial_id for h in handoffs] == [t.id for t in catalog.trials][:2]
    assert handoffs[1].contact == handoffs[0].contact
    assert handoffs[0].contact.medicines == "methotrexate and prednisone 5 mg"


def test_stop_during_the_details(catalog, referral_chat, adult):
    referral = start_referral(catalog, adult, "s1")
    play(referral_chat, referral, ["1", "yes"])
    turn = referral_chat.receive(referral, "stop", "self", intent="stop")
    assert referral.confirm == "stop" and not referral.finished  # a bare "stop" where a name was expected: asked back
    assert referral_chat.ask(referral, "self").text == wording.CONFIRM_STOP
    turn = referral_chat.receive(referral, "yes", "self", intent="affirm")
    assert turn.handoff is None and referral.finished and turn.messages[0].text == wording.STOPPED


def test_an_email_taken_for_stop_by_nlu_is_still_an_email(catalog, referral_chat, adult):
    referral = start_referral(catalog, adult, "s1")
    play(referral_chat, referral, ["1", "yes", "Li Wei", "skip"])
    referral_chat.receive(referral, "li@example.org", "self", intent="stop")
    assert referral.contact["email"] == "li@example.org"


def test_guardian_wording(catalog, referral_chat, adult):
    referral = start_referral(catalog, adult, "s1")
    assert "about your child" in referral_chat.ask(referral, "guardian").text


@pytest.mark.parametrize("step_replies", [[], ["1"], ["1", "yes"], ["1", "yes", "Li Wei"]])
def test_crisis_words_get_support_at_every_step_and_are_never_stored(catalog, referral_chat, adult, step_replies):
    referral = start_referral(catalog, adult, "s1")
    play(referral_chat, referral, step_replies)
    step, contact = referral.step, dict(referral.contact)
    turn = referral_chat.receive(referral, "I want to kill myself", "self", intent="inform")
    assert [m.text for m in turn.messages] == [wording.CRISIS_SUPPORT] and turn.handoff is None
    assert referral.step == step and referral.contact == contact


def test_the_consent_names_what_is_sensitive_how_long_and_who_runs_it(catalog, referral_chat, planner, monkeypatch):
    monkeypatch.setenv("PRESCREEN_OPERATOR", "the Zhejiang trial office")
    monkeypatch.setenv("HANDOFF_RETENTION_DAYS", "90")
    screening = answer_everything(Conversation(planner), Screening(), {
        RESPONDENT: "me", "condition": "lupus", "refractory": "yes", "age": "34",
        "diagnosis_when": "more than 2 years ago", "sex": "female"})
    referral = start_referral(catalog, screening, "s1")
    answered = {catalog.facts[f].sensitive for f in screening.answers if catalog.facts[f].sensitive}
    assert answered and set(referral.sensitive) == answered
    referral_chat.receive(referral, "1", "self")
    text = referral_chat.ask(referral, "self").text
    for topic in answered:
        assert topic in text
    assert "the Zhejiang trial office" in text and "up to 90 days" in text
    assert "stays with the study team unless you ask them" in text


def test_the_consent_names_no_topic_that_was_not_asked(catalog, referral_chat, planner):
    screening = Screening(respondent="self", answers={"condition": {"value": "sle", "said": "lupus"}})
    referral = start_referral(catalog, screening, "s1")
    assert "hiv" not in [t.lower() for t in referral.sensitive]


@pytest.mark.parametrize("reply, chosen", [("1 and 3", [0, 2]), ("all of them", [0, 1, 2, 3, 4]), ("Wuhan", None),
                                           ("the first one", [0]), ("the second and the fifth", [1, 4]),
                                           ("第一个和第三个", [0, 2])])
def test_typed_choices_of_study_teams(catalog, referral_chat, adult, reply, chosen):
    referral = start_referral(catalog, adult, "s1")
    referral_chat.receive(referral, reply, "self")
    picked = [referral.trial] + referral.queue
    if chosen is None:
        chosen = [i for i, t in enumerate(catalog.trials) if t.sites[0].city == "Wuhan"]
    assert picked == [catalog.trials[i].id for i in chosen] and referral.step == "consent"


@pytest.mark.parametrize("reply", ["yes", "hmm", "can I ask something first?", "I'm not sure"])
def test_anything_but_a_choice_or_a_no_keeps_the_question(catalog, referral_chat, adult, reply):
    referral = start_referral(catalog, adult, "s1")
    turn = referral_chat.receive(referral, reply, "self")
    assert referral.step == "choose" and turn.messages and not referral.chosen
