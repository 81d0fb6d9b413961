"""Typed replies as patients write them: negation, hedges, mixed replies, read-back, commands (core, no Rasa)."""
from datetime import date

import pytest

from prescreen.screening import wording
from prescreen.screening.answers import AnswerError, NeedsDetail, parse_answer, parse_group_answer
from prescreen.screening.commands import command_of, plain_command
from prescreen.screening.conversation import RESPONDENT, Conversation, Screening
from prescreen.screening.factbank import NOT_SURE
from prescreen.screening.polarity import MIXED, NO, NOT_SURE as HEDGE, YES, polarity
from prescreen.referral.conversation import ReferralConversation, start_referral

from test_conversation import answer_everything, reach

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize("text", [
    "I never had that", "I have never had cancer", "I was never told I had it", "I am negative for HIV",
    "negative", "tested negative last year", "no", "nope", "nah", "not really", "not at all", "never",
    "absolutely not", "definitely not", "of course not", "I haven't", "she hasn't", "he doesn't", "we didn't",
    "no she never has", "none", "nothing like that", "I don't have it", "not that", "no!!", "NO", "n",
    "I do not", "she isn't", "no longer", "no, never", "nope never had it", "I have not had any", "没有", "从来没有", "不是",
    "oops I meant no", "sorry I meant no",
])
def test_negations_are_no(text):
    assert polarity(text) == NO


@pytest.mark.parametrize("text", [
    "yes", "Yes, I have", "yeah", "yep", "that's right", "absolutely", "definitely", "uh huh", "of course",
    "I have", "she does", "he did", "I did, in 2019", "yes a long time ago", "correct", "true", "👍", "是的", "有",
    "I'm HIV positive", "tested positive", "sorry, I meant yes",
])
def test_affirmations_are_yes(text):
    assert polarity(text) == YES


@pytest.mark.parametrize("text", [
    "I think so", "could be", "probably", "maybe", "possibly", "I guess", "hard to say", "dunno", "idk",
    "I don't know", "not sure", "I'm not sure", "no idea", "my doctor would know", "I forget", "I forgot",
    "I don't remember", "can't remember", "not that I know of", "I don't think so", "might have", "kind of",
    "not 100% sure", "不知道", "记不清", "I'd have to check",
])
def test_hedges_are_not_sure(text):
    assert polarity(text) == HEDGE


@pytest.mark.parametrize("text", [
    "no, but I had it in 2019", "yes but not anymore", "No, I have", "yes, never", "I had it but I don't now",
])
def test_mixed_replies_are_mixed(text):
    assert polarity(text) == MIXED


@pytest.mark.parametrize("text", ["my kidneys are fine", "purple", "the blue one", "hmm"])
def test_replies_that_say_neither_are_neither(text):
    assert polarity(text) is None


def test_a_mixed_reply_gets_a_clarifying_question_and_stores_nothing(catalog):
    with pytest.raises(AnswerError) as caught:
        parse_answer(catalog.facts["transplant"], "no, but I had one in 2019", TODAY)
    assert caught.value.hint == wording.MIXED_REPLY
    assert parse_answer(catalog.facts["transplant"], "could be", TODAY) == NOT_SURE


@pytest.fixture(scope="module")
def health(catalog):
    group = next(g for g in catalog.groups.values() if {"cancer", "hiv"} <= set(g.facts))
    return group, [catalog.facts[f] for f in group.facts]


def test_a_checklist_reply_that_denies_items_never_stores_them_as_yes(health):
    group, members = health
    answer = parse_group_answer(group, members, "I never had cancer or HIV")
    assert answer == {"cancer": False, "hiv": False}  # the rest are asked again
    answer = parse_group_answer(group, members, "I had cancer but not HIV")
    assert answer["cancer"] is True and answer["hiv"] is False
    answer = parse_group_answer(group, members, "no cancer, no hiv, maybe TB")
    assert answer["cancer"] is False and answer["hiv"] is False and answer["tuberculosis"] == NOT_SURE
    assert set(parse_group_answer(group, members, "none of those").values()) == {False}
    assert set(parse_group_answer(group, members, "nope").values()) == {False}
    with pytest.raises(AnswerError):  # a long "no" about something not on the list: which of these?
        parse_group_answer(group, members, "I never smoked or drank in my whole life")


@pytest.mark.parametrize("text, expected", [
    ("not lupus, it's Sjogren's", "sjogren"), ("lupus", "sle"), ("it isn't scleroderma, it is lupus", "sle"),
    ("I don't have lupus, I have rheumatoid arthritis", "other"),
])
def test_choices_named_only_to_deny_them_do_not_count(catalog, text, expected):
    assert parse_answer(catalog.facts["condition"], text, TODAY) == expected


def test_a_hedged_choice_is_asked_again(catalog):
    with pytest.raises(AnswerError, match="Is it Lupus"):
        parse_answer(catalog.facts["condition"], "probably lupus", TODAY)


@pytest.mark.parametrize("text, command", [
    ("go back", "go_back"), ("go back please", "go_back"), ("previous question", "go_back"),
    ("start over", "start_over"), ("restart", "start_over"), ("stop", "stop"), ("please stop", "stop"),
    ("delete my data", "withdraw"), ("please erase all my answers", "withdraw"), ("why?", "ask_why"),
    ("what's this for", "ask_why"), ("为什么", "ask_why"), ("删除我的数据", "withdraw"),
])
def test_plain_command_phrases(text, command):
    assert plain_command(text) == command


@pytest.mark.parametrize("text, intent", [
    ("I forget", "withdraw"), ("I forgot", "withdraw"), ("I don't remember", "withdraw"), ("Li Wei", "withdraw"),
    ("I stopped rituximab last year", "stop"), ("maybe go back", "go_back"), ("lupus", "go_back"),
])
def test_not_a_command(text, intent):
    assert command_of(intent, text) is None


@pytest.fixture(scope="module")
def conversation(planner):
    return Conversation(planner)


def test_a_typed_answer_that_rules_a_study_out_is_read_back(conversation):
    screening = reach(conversation, "transplant")
    conversation.receive(screening, "I had a kidney transplant", None, TODAY)
    assert "transplant" not in screening.answers and screening.pending
    read_back = conversation.ask(screening)
    assert read_back.text.startswith("Just to check") and "Is that right?" in read_back.text
    assert [b["title"] for b in read_back.buttons] == [wording.YES_THATS_RIGHT, wording.NO_LET_ME_CHANGE]
    conversation.receive(screening, "yes", "affirm", TODAY, tapped=True)
    assert screening.values()["transplant"] is True and screening.pending is None


def test_no_to_a_read_back_of_a_yes_stores_no(conversation):
    screening = reach(conversation, "refractory")
    conversation.receive(screening, "not really", None, TODAY)
    assert screening.pending and conversation.ask(screening).buttons[1]["title"] == wording.NO_I_MEANT_YES
    conversation.receive(screening, "no", "deny", TODAY, tapped=True)
    assert screening.values()["refractory"] is True


def test_a_tapped_answer_needs_no_read_back(conversation):
    screening = reach(conversation, "refractory")
    conversation.receive(screening, "no", "deny", TODAY, tapped=True)
    assert screening.values()["refractory"] is False and screening.pending is None


def test_a_new_answer_at_the_read_back_is_read_as_the_answer(conversation):
    screening = reach(conversation, "age")
    conversation.receive(screening, "4", None, TODAY)
    assert screening.pending
    conversation.receive(screening, "sorry, 44", None, TODAY)
    assert screening.values()["age"] == 44 and screening.pending is None


def test_oops_i_meant_no_changes_the_last_yes_no_answer(conversation):
    screening = reach(conversation, "refractory")
    conversation.receive(screening, "yes", "affirm", TODAY, tapped=True)
    conversation.ask(screening)
    assert screening.asking != ["refractory"]
    messages = conversation.receive(screening, "oops I meant no", "go_back", TODAY)
    assert screening.pending and screening.pending_answers() == {"refractory": False}  # rules out: read back
    assert messages == [] and "Is that right?" in conversation.ask(screening).text


def test_i_forget_is_not_sure(conversation):
    screening = reach(conversation, "refractory")
    conversation.receive(screening, "I forget", "withdraw", TODAY)
    assert screening.values()["refractory"] == NOT_SURE


def test_a_hedge_is_not_a_medical_question(conversation):
    screening = reach(conversation, "refractory")
    messages = conversation.receive(screening, "could be", "medical_question", TODAY)
    assert screening.values()["refractory"] == NOT_SURE and wording.ASK_YOUR_DOCTOR not in [m.text for m in messages]


# ---- the contact steps ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def adult(planner):
    return answer_everything(Conversation(planner), Screening(), {
        RESPONDENT: "me", "condition": "lupus", "refractory": "yes", "age": "34",
        "diagnosis_when": "more than 2 years ago", "sex": "female"})


@pytest.fixture(scope="module")
def contact(catalog):
    return ReferralConversation(catalog)


@pytest.mark.parametrize("text", ["Can I ask something first?", "what does the study involve?", "hmm",
                                  "I'm not sure", "tell me more", "yes"])
def test_only_an_explicit_no_declines_the_offer(catalog, contact, adult, text):
    referral = start_referral(catalog, adult, "s1")
    turn = contact.receive(referral, text, "self")
    assert referral.step == "choose" and turn.messages


@pytest.mark.parametrize("text", ["Can I ask something first?", "what does it involve?", "hmm", "I'm not sure"])
def test_only_an_explicit_no_declines_consent(catalog, contact, adult, text):
    referral = start_referral(catalog, adult, "s1")
    contact.receive(referral, "1", "self")
    first = referral.trial
    turn = contact.receive(referral, text, "self")
    assert referral.trial == first and referral.step == "consent" and turn.messages


def test_a_question_at_the_consent_is_answered_briefly(catalog, contact, adult):
    referral = start_referral(catalog, adult, "s1")
    contact.receive(referral, "1", "self")
    turn = contact.receive(referral, "Can I ask something first?", "self")
    assert catalog.trial(referral.trial).plain_summary in turn.messages[0].text


def test_go_back_at_every_contact_step(catalog, contact, adult):
    referral = start_referral(catalog, adult, "s1")
    assert contact.receive(referral, "go back", "self", "go_back").leave == "screening"  # the offer: the screening
    contact.receive(referral, "1 and 2", "self")
    contact.receive(referral, "go back", "self", "go_back")
    assert referral.step == "choose" and referral.queue[0] == catalog.trials[0].id
    contact.receive(referral, "choice:done", "self")
    for reply, step in (("yes", "name"), ("Li Wei", "phone")):
        contact.receive(referral, reply, "self")
        assert referral.step == step
    contact.receive(referral, "go back", "self", "go_back")
    assert referral.step == "name"


def test_commands_at_the_consent_question(catalog, contact, adult):
    referral = start_referral(catalog, adult, "s1")
    contact.receive(referral, "1", "self")
    why = contact.receive(referral, "why?", "self", "ask_why")
    assert referral.step == "consent" and why.messages
    assert contact.receive(referral, "start over", "self", "start_over").leave == "start_over"
    assert contact.receive(referral, "delete my data", "self", "withdraw").leave == "withdraw"


@pytest.mark.parametrize("name", ["Forget Li", "Stopford Chen", "Ren Delete", "Backus Wang"])
def test_a_name_with_a_command_word_is_a_name(catalog, contact, adult, name):
    referral = start_referral(catalog, adult, "s1")
    contact.receive(referral, "1", "self")
    contact.receive(referral, "yes", "self")
    turn = contact.receive(referral, name, "self", intent="withdraw")
    assert turn.leave is None and referral.contact["name"] == name


@pytest.mark.parametrize("bad", ["Li\u202eWei", "Li\x1b[31mWei", "Li\u200bWei", "Li\x00"])
def test_names_refuse_control_and_format_characters(catalog, contact, adult, bad):
    referral = start_referral(catalog, adult, "s1")
    contact.receive(referral, "1", "self")
    contact.receive(referral, "yes", "self")
    turn = contact.receive(referral, bad, "self")
    assert "name" not in referral.contact and turn.messages[0].text == wording.NO_SPECIAL_CHARACTERS


def test_another_language_is_asked_as_free_text(catalog, contact, adult):
    referral = start_referral(catalog, adult, "s1")
    for reply in ["1", "yes", "Li Wei", "13800138000", "skip", "choice:morning"]:
        contact.receive(referral, reply, "self")
    assert referral.step == "language"
    contact.receive(referral, "other", "self", tapped=True)
    question = contact.ask(referral, "self")
    assert referral.step == "language_other" and question.buttons == []
    contact.receive(referral, "Hakka", "self")
    assert referral.step == "medicines"
    turn = contact.receive(referral, "skip", "self")
    assert turn.handoff is not None and turn.handoff.contact.language == "Hakka"


# ---- classes of reply found by the utterance suite (own cases, not the suite's) ---------------------------

@pytest.mark.parametrize("text, expected", [
    ("it keeps coming back", True), ("flares every few months", True), ("nothing has worked so far", True),
    ("it's been in remission for a year", False), ("it is well controlled now", False), ("it never came back", False),
    ("no, it's been stable", False), ("没有复发", False), ("又复发了", True), ("sorry, I meant yes", True),
])
def test_the_refractory_question_knows_its_own_words(catalog, text, expected):
    assert parse_answer(catalog.facts["refractory"], text, TODAY) == expected


@pytest.mark.parametrize("text", ["no, it keeps flaring", "yes, it's in remission"])
def test_a_lead_word_that_contradicts_the_facts_own_words_is_asked_again(catalog, text):
    with pytest.raises(AnswerError):
        parse_answer(catalog.facts["refractory"], text, TODAY)


def test_a_change_over_time_is_a_no_to_a_question_about_now(catalog):
    group = next(g for g in catalog.groups.values() if "breastfeeding" in g.facts)
    members = [catalog.facts[f] for f in group.facts]
    assert parse_group_answer(group, members, "I quit breastfeeding in the spring").get("breastfeeding") is False


def test_checklist_replies_about_other_people_offers_and_broader_words(health):
    group, members = health
    assert parse_group_answer(group, members, "my dad had a heart attack, not me").get("heart_attack") is False
    assert parse_group_answer(group, members, "no heart trouble at all").get("heart_attack") is False
    with pytest.raises(NeedsDetail):  # a broader word, affirmed, says nothing about the item: which ones?
        parse_group_answer(group, members, "I have heart problems")
    assert parse_group_answer(group, members, "cancer no, the rest no") == {m.id: False for m in members}


@pytest.mark.parametrize("text", ["can I join if I'm 72?", "what does CD19 mean?", "is this a robot?"])
def test_a_question_back_is_never_taken_as_an_answer(conversation, text):
    screening = reach(conversation, "age")
    messages = conversation.receive(screening, text, "out_of_scope", TODAY)
    assert "age" not in screening.answers and screening.pending is None and messages


def test_a_negative_reply_at_a_when_question_undoes_the_yes_before_it(conversation):
    screening = reach(conversation, "live_vaccine")
    conversation.receive(screening, "choice:item:live_vaccine", None, TODAY)
    conversation.receive(screening, "choice:done", None, TODAY)
    conversation.ask(screening)
    assert screening.asking == ["live_vaccine_when"]
    conversation.receive(screening, "actually I never had one", None, TODAY)
    assert screening.values()["live_vaccine"] is False and "live_vaccine_when" not in screening.answers


@pytest.mark.parametrize("text, field, value", [
    ("my name is Chen Jie", "name", "Chen Jie"), ("it's 139 1234 5678", "phone", "13912345678"),
    ("my email is chen.jie@example.org", "email", "chen.jie@example.org"),
])
def test_contact_details_after_a_lead_in(catalog, contact, adult, text, field, value):
    referral = start_referral(catalog, adult, "s1")
    for reply in ["1", "yes", *(["Li Wei"] if field != "name" else []), *(["skip"] if field == "email" else [])]:
        contact.receive(referral, reply, "self")
    contact.receive(referral, text, "self")
    assert referral.contact[field] == value


@pytest.mark.parametrize("text", ["can I ask something first?", "why do they need my name?", "is this safe？"])
def test_a_question_at_a_contact_detail_is_never_stored_as_the_detail(catalog, contact, adult, text):
    referral = start_referral(catalog, adult, "s1")
    contact.receive(referral, "1", "self")
    contact.receive(referral, "yes", "self")
    turn = contact.receive(referral, text, "self")
    assert "name" not in referral.contact and referral.step == "name" and turn.messages
