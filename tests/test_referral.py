"""The contact steps after the results: offer, consent, details, withdrawal (core, no Rasa)."""
import pytest

from prescreen.screening import wording
from prescreen.screening.conversation import RESPONDENT, Conversation, Screening
from prescreen.referral.conversation import ReferralConversation, start_referral

from test_conversation import answer_everything


@pytest.fixture(scope="module")
def referral_chat(catalog):
    return ReferralConversation(catalog)


@pytest.fixture(scope="module")
def adult(planner):
    """A finished screening of an adult who may fit every study."""
    return answer_everything(Conversation(planner), Screening(), {
        RESPONDENT: "me", "condition": "lupus", "refractory": "yes", "age": "34",
        "diagnosis_when": "more than 2 years ago", "sex": "female"})


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


def test_offers_every_study_that_may_fit(catalog, adult):
    referral = start_referral(catalog, adult, "s1")
    assert [referral.trial] + referral.offers == [t.id for t in catalog.trials]


def test_consent_then_details_make_one_handoff(catalog, referral_chat, adult):
    referral = start_referral(catalog, adult, "s1")
    first = referral.trial
    said, handoffs = play(referral_chat, referral, ["yes", "yes", "Li Wei", "+86 138 0013 8000", "li@example.org",
                                                    "choice:morning", "choice:mandarin"])
    consent = said[1]
    assert "will be sent to the study team at" in consent and "delete my data" in consent
    [handoff] = handoffs
    assert handoff.trial_id == first
    assert handoff.contact.name == "Li Wei" and handoff.contact.phone == "+8613800138000"
    assert handoff.contact.email == "li@example.org" and handoff.contact.preferred_time == "Morning (9-12)"
    assert referral.trial != first  # on to the next study


def test_nothing_identifying_is_asked_before_an_explicit_yes(catalog, referral_chat, adult):
    for answer, step in (("no", "offer"), ("no thanks", "offer"), ("maybe", "consent"), ("I'm not sure", "consent"),
                         ("what happens to my data?", "consent"), ("hmm", "consent"), ("I never agreed", "offer")):
        referral = start_referral(catalog, adult, "s1")
        said, handoffs = play(referral_chat, referral, ["yes", answer])
        assert handoffs == [] and referral.contact == {}
        assert referral.step == step, answer  # only an explicit no moves on; nothing else asks for a name
        assert not any("name" in (s or "").lower() for s in said)


def test_declining_the_offer_sends_nothing(catalog, referral_chat, adult):
    referral = start_referral(catalog, adult, "s1")
    said, handoffs = play(referral_chat, referral, ["no"] * 5)
    assert handoffs == [] and referral.finished
    assert "Nothing has been sent" in referral_chat.closing(referral).text


@pytest.mark.parametrize("bad_phone", ["12", "call me", "<script>", "1" * 30])
def test_bad_phone_is_asked_again(catalog, referral_chat, adult, bad_phone):
    referral = start_referral(catalog, adult, "s1")
    said, _ = play(referral_chat, referral, ["yes", "yes", "Li Wei", bad_phone])
    assert "phone number" in said[-1] and referral.step == "phone" and "phone" not in referral.contact


@pytest.mark.parametrize("bad_email", ["li@", "li at example dot org", "<li@x.org>", "a b@c.de"])
def test_bad_email_is_asked_again(catalog, referral_chat, adult, bad_email):
    referral = start_referral(catalog, adult, "s1")
    said, _ = play(referral_chat, referral, ["yes", "yes", "Li Wei", "skip", bad_email])
    assert "email address" in said[-1] and referral.step == "email" and "email" not in referral.contact


def test_phone_or_email_is_required(catalog, referral_chat, adult):
    referral = start_referral(catalog, adult, "s1")
    said, _ = play(referral_chat, referral, ["yes", "yes", "Li Wei", "skip", "skip"])
    assert "phone number or an email" in said[-1]


def test_second_study_reuses_the_details_after_its_own_consent(catalog, referral_chat, adult):
    referral = start_referral(catalog, adult, "s1")
    _, handoffs = play(referral_chat, referral, ["yes", "yes", "Li Wei", "skip", "li@example.org", "any time",
                                                 "English", "yes", "yes"])
    assert [h.trial_id for h in handoffs] == [t.id for t in catalog.trials][:2]
    assert handoffs[1].contact == handoffs[0].contact


def test_stop_during_the_details(catalog, referral_chat, adult):
    referral = start_referral(catalog, adult, "s1")
    play(referral_chat, referral, ["yes", "yes"])
    turn = referral_chat.receive(referral, "stop", "self", intent="stop")
    assert referral.confirm == "stop" and not referral.finished  # a bare "stop" where a name was expected: asked back
    assert referral_chat.ask(referral, "self").text == wording.CONFIRM_STOP
    turn = referral_chat.receive(referral, "yes", "self", intent="affirm")
    assert turn.handoff is None and referral.finished and turn.messages[0].text == wording.STOPPED


def test_an_email_taken_for_stop_by_nlu_is_still_an_email(catalog, referral_chat, adult):
    referral = start_referral(catalog, adult, "s1")
    play(referral_chat, referral, ["yes", "yes", "Li Wei", "skip"])
    referral_chat.receive(referral, "li@example.org", "self", intent="stop")
    assert referral.contact["email"] == "li@example.org"


def test_guardian_wording(catalog, referral_chat, adult):
    referral = start_referral(catalog, adult, "s1")
    assert "about your child" in referral_chat.ask(referral, "guardian").text


@pytest.mark.parametrize("step_replies", [[], ["yes"], ["yes", "yes"], ["yes", "yes", "Li Wei"]])
def test_crisis_words_get_support_at_every_step_and_are_never_stored(catalog, referral_chat, adult, step_replies):
    referral = start_referral(catalog, adult, "s1")
    play(referral_chat, referral, step_replies)
    step, contact = referral.step, dict(referral.contact)
    turn = referral_chat.receive(referral, "I want to kill myself", "self", intent="inform")
    assert [m.text for m in turn.messages] == [wording.CRISIS_SUPPORT] and turn.handoff is None
    assert referral.step == step and referral.contact == contact
