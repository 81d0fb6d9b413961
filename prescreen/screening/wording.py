"""What the assistant says, in short sentences and common words.

Kept apart from the Rasa adapters so the wording is tested directly and reviewed in
one place. Never "you are eligible": a study "may be a match", the study team decides.
"""
from __future__ import annotations

import re

from prescreen.i18n import _, join
from prescreen.screening.trials import Catalog


def welcome_message(catalog: Catalog) -> str:
    places = sorted({site.city for trial in catalog.trials for site in trial.sites})
    return (
        f"Hello. I can help you check if one of {len(catalog.trials)} research studies of new cell "
        f"treatments might suit you. The studies are at hospitals in {join(', ', places[:-1])} and {places[-1]}. "
        "I will ask a few short questions, one at a time. "
        "You don't need to give your name to check. "
        "This is not medical advice, and only the study team can decide if you can join. "
        "You can type \"stop\" at any time."
    )


WHO_IS_ANSWERING = "First, who is answering today?"
WHY_WHO_IS_ANSWERING = "So I can ask the questions the right way, about you or about your child."
HELPER_NOTE = "Please answer for the person you are helping."
WHICH_ONES = 'Which ones? Tap each one that applies, or type their numbers, for example "1 and 3".'
MOVING_ON = "That's OK, let's move on. The study team can check this with you later."
GOING_BACK = "OK, let's go back. You can change your last answer."
NOTHING_TO_GO_BACK_TO = "There is no earlier answer to change yet."
STARTING_OVER = "OK, let's start again from the beginning. Your earlier answers are cleared."
ASK_YOUR_DOCTOR = "I can't give medical advice. Please ask your doctor or the study team about this."
CARRY_ON = "We can carry on with the questions whenever you are ready."
WHY_IN_GENERAL = (
    "I ask questions that come from each study's own rules, to see which studies may fit. "
    "Only the study team can decide who can join."
)
STOPPED = (
    "OK, I've stopped. Nothing has been sent to anyone. "
    'If you want to check again later, just say "hi".'
)
CRISIS_SUPPORT = (
    "I'm sorry you are going through this. You are not alone, and help is available now. "
    "In mainland China, you can call the mental health hotline 12356, or the Beijing "
    "Psychological Crisis Intervention hotline 010-82951332 (day and night). "
    "If you might act on these thoughts, call 120 or go to the nearest emergency department now. "
    "Outside China, call your local emergency number."
)
SMALL_TALK = {
    "greet": "Hello again. Let's carry on.",
    "thank": _("You're welcome."),
    "goodbye": 'If you want to stop, type "stop".',
    "out_of_scope": "Sorry, I can only help check these studies.",
    "nlu_fallback": "Sorry, I didn't understand that.",
}
RESULTS_INTRO = "Thank you. Your results are ready."
RESULTS_WHERE = ('Each study has a short card under "Your results", below the chat. '
                 "This is not a decision: only the study team can decide who can join.")
RESULTS_NONE_FIT = "None of these studies seems to fit right now. Your own doctor can talk with you about other options."
RESULTS_CHANGE = 'If an answer was wrong, type "go back" or "start over".'
CARD_LABELS = {  # the cards' fixed words, sent with the results so the page holds no wording of its own
    "more": "More about this study",
    "checks": "What the study team still checks",
    "other_reasons": "Other reasons",
    "announce_where": "The cards are below the chat.",
}

_CRISIS = re.compile(
    r"\b(kill(ing)? (my|him|her)self|suicid\w*|end(ing)? (my|his|her) life|take (my|his|her) (own )?life|"
    r"self[- ]?harm\w*|hurt(ing)? (my|him|her)self|(want|wanted) to die|better off dead|don'?t want to (live|be alive)|"
    r"end it all|end everything|(want|going|gonna) to end it|rather be dead|never wake up|overdose|od on|"
    r"no reason to live|not worth living|can'?t go on)\b|"
    r"自杀|轻生|不想活|活不下去|结束生命|了结自己",
    re.IGNORECASE,
)


def mentions_crisis(text: str) -> bool:
    """Words of suicide or self-harm: crisis support comes first, whatever the question."""
    return bool(_CRISIS.search(text or ""))


def progress_hint(answered: int) -> str | None:
    if answered in (4, 8, 12, 16):
        return "Thank you. A few more questions."
    return None


def days(count: int) -> str:
    """14 -> "2 weeks", 90 -> "3 months", 1825 -> "5 years"."""
    for unit, size in (("year", 365), ("month", 30), ("week", 7)):
        if count >= size and count % size == 0:
            n = count // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{count} day{'s' if count != 1 else ''}"


STATUS_NOTES = {
    "not_yet_recruiting": "This study is not yet recruiting: you can ask to be contacted when it opens.",
    "active_not_recruiting": "This study is not taking new people at the moment.",
    "completed": "This study has finished.",
}


def status_note(trial) -> str | None:
    """The study's recruitment status, when patients must know it (it is not recruiting yet)."""
    return STATUS_NOTES.get(trial.status)


def date_text(day) -> str:
    """2027-01-12 -> "12 January 2027"."""
    return f"{day.day} {day.strftime('%B')} {day.year}"


# ---- the results: one short card per study (prescreen/screening/results.py) ----
VERDICT_LABELS = {
    "possibly_eligible": "May be a match",
    "possibly_eligible_later": "May fit after a waiting period",
    "not_eligible": "Does not seem to fit",
}
_FOR_WHOM = {"self": "", "guardian": " for your child", "helper": " for the person you help"}
STATUS_SHORT = {"not_yet_recruiting": "It is not recruiting yet.", "active_not_recruiting": "It is not taking new people now.",
                "completed": "It has finished."}
UNSURE_ON_CARD = "The team will check what you were not sure about."
NEXT_SHORT = "The team can call you if you ask."


def verdict_sentence(verdict: str, respondent: str | None, earliest=None) -> str:
    """"This study may be a match for your child." """
    whom = _FOR_WHOM.get(respondent or "self", "")
    if verdict == "possibly_eligible":
        return f"This study may be a match{whom}."
    if verdict == "possibly_eligible_later":
        when = f", from about {date_text(earliest)}" if earliest else ""
        return f"This study may fit after a waiting period{when}."  # the date is what matters here
    return f"This study does not seem to fit{whom}."


def from_when(day) -> str:
    return f"From about {date_text(day)}."


def rule_reason(criterion, respondent: str | None) -> str:
    """A criterion in the patient's words; the listing's own words only where none were written."""
    return criterion.plain_for(respondent) or f'The study\'s rule says: "{criterion.text}"'


def illness_reason(labels: list[str]) -> str:
    """The illness first when the illness is the reason: "This study is for lupus (SLE)." """
    names = [_lower_first(label) for label in labels]
    if len(names) > 2:
        return f"This study is for {join(', ', names[:-1])} or {names[-1]}."
    return f"This study is for {join(' or ', names)}."


def _lower_first(label: str) -> str:
    first = label.split()[0] if label.split() else label
    if len(first) > 1 and (first[1].isupper() or "'" in first or "’" in first):
        return label  # "ANCA vasculitis", "Sjögren's syndrome"
    return label[:1].lower() + label[1:]


def where_text(sites) -> str:
    """"Where: Union Hospital, Wuhan." (the short name patients know, not the full one)."""
    return "Where: " + join("; ", (f"{site.label}, {site.city}" for site in sites)) + "."


def next_text(verdict: str, callback_days: int | None) -> str | None:
    """What happens next and when: the per-site setting, or no timeframe where none is set."""
    if verdict == "not_eligible":
        return None
    if callback_days:
        return (f"If you ask to be contacted, the team usually calls within "
                f"{callback_days} working day{'s' if callback_days != 1 else ''}.")
    return "If you ask to be contacted, the study team will call you."


def phone_text(phone: str | None) -> str:
    return f"Phone: {phone}." if phone else "No phone number is listed."


def incomplete_rules_text(unsure_topics) -> str:
    unsure = f", including what you were not sure about: {join(', ', unsure_topics)}" \
        if unsure_topics else ""
    return f"This study has not published its full rules, so the study team will go through them with you{unsure}."


# What the study team still checks, in plain words: topics found in the criteria's words,
# never a count ("22 things") and never the listing's numbers.
CHECK_TOPICS = (
    ("Blood and urine tests", r"blood|urine|serum|h(a)?emoglobin|platelet|neutrophil|lymphocyte|white cell|count|"
                              r"creatinine|bilirubin|\bALT\b|\bAST\b|HBV|HCV|HBsAg|HBcAb|HIV|syphilis|antibod|antigen|"
                              r"test|laborator|eGFR|albumin|protein|DNA|titer"),
    ("Scores of how active the illness is", r"score|SLEDAI|BILAG|\bPGA\b|ECOG|activity|classification"),
    ("Checks of the heart, lungs and other organs", r"heart|cardiac|ECG|echocardio|ejection|lung|pulmonary|oxygen|"
                                                    r"liver|kidney|renal|nephritis|organ|brain|nervous|spinal"),
    ("Past treatments and medicines", r"treatment|therap|medicin|drug|steroid|glucocorticoid|dose|vaccin|prednison|"
                                      r"transfusion|dialysis|plasma|surgery|operation|transplant"),
    ("Pregnancy and birth control", r"pregnan|contracep|breast|lactat|fertil"),
    ("The consent form and the study visits", r"consent|complian|cooperat|follow-up|willing|voluntar"),
)
OTHER_RECORDS = "Other parts of the medical records"


def check_topics(texts) -> list[str]:
    """Plain topics for the criteria texts (and site-check notes) the team still has to check."""
    found = set()
    for text in texts:
        hits = [label for label, pattern in CHECK_TOPICS if re.search(pattern, text, re.IGNORECASE)]
        found |= set(hits) or {OTHER_RECORDS}
    return [label for label, _ in CHECK_TOPICS if label in found] + ([OTHER_RECORDS] if OTHER_RECORDS in found else [])


def results_in_chat(verdicts: list[str]) -> str:
    """Said once in the chat: how many studies may fit, and where the cards are."""
    return _results_text(verdicts, True)


def results_summary(verdicts: list[str]) -> str:
    """What the page announces when the cards appear: "Your results are ready. 5 studies may be a match." """
    return _results_text(verdicts, False)


def _results_text(verdicts: list[str], in_chat: bool) -> str:
    counts = [(sum(v == key for v in verdicts), key) for key in VERDICT_LABELS]
    words = {"possibly_eligible": ("may be a match", "may be a match"),
             "possibly_eligible_later": ("may fit after a waiting period", "may fit after a waiting period"),
             "not_eligible": ("does not seem to fit", "do not seem to fit")}
    parts = [f"{n} {'study' if n == 1 else 'studies'} {words[key][0] if n == 1 else words[key][1]}"
             for n, key in counts if n]
    summary = (", ".join(parts[:-1]) + " and " + parts[-1]) if len(parts) > 1 else parts[0]
    text = f"{RESULTS_INTRO} {summary[0].upper()}{summary[1:]}."
    if not in_chat:
        return text
    text += f" {RESULTS_WHERE}"
    if not any(v != "not_eligible" for v in verdicts):
        text += f" {RESULTS_NONE_FIT}"
    return f"{text} {RESULTS_CHANGE}"


NOT_SCREENING_NOW = 'To check the studies again, say "hi". To change an answer, say "go back".'

ERASED = (
    "Done. I have erased your answers, any contact details, anything not yet sent, and this conversation. "
    'If you want to check again later, just say "hi".'
)

STOPPED_AFTER_CONSENT = (
    "OK, I've stopped. What you already agreed to send will still go to that study team. "
    'To withdraw it, type "delete my data".'
)

TOO_LONG = "That message is too long for me. Please answer in a few words."

TECHNICAL_PROBLEM = (
    "Sorry, we have a technical problem. Please try again in a moment. "
    "If it keeps happening, please try again later."
)

# ---- understanding typed replies (prescreen/screening/answers.py, conversation.py) ----
YES_NO_HINT = 'Please answer "yes", "no" or "I\'m not sure". You can also tap a button.'
MIXED_REPLY = 'Sorry, I\'m not sure I understood. Is the answer "yes" or "no"? If you are not sure, that\'s fine too.'
CHECKLIST_HINT = ('Please tap the ones that apply and then "Done", type their numbers (for example "1 and 3"), '
                  'or say "none of these".')
MIXED_CHECKLIST = 'Sorry, I\'m not sure I understood. Which of these apply? Type their numbers, or say "none of these".'
YES_THATS_RIGHT = "Yes, that's right"
NO_I_MEANT_NO = "No, I meant no"
NO_I_MEANT_YES = "No, I meant yes"
NO_LET_ME_CHANGE = "No, let me change it"
LETS_TRY_AGAIN = "OK, let's try that question again."
YES_OR_NO_TO_READ_BACK = 'Please tap "Yes, that\'s right" or "No", or type your answer again.'
DONE_BUTTON = "Done"
CONTINUE_BUTTON = "Continue when you are ready"
CONTINUE_WHEN_READY = "Take your time. When you are ready, tap the button to continue."


def read_back(said: str) -> str:
    """Before a typed answer alone rules a study out: one short question."""
    return f"Just to check: {said}. Is that right?"


def said_yes_no(label: str, value: bool) -> str:
    return f'you said {"yes" if value else "no"} to "{label}"'


def changed_last_answer(label: str, value: bool) -> str:
    return f'OK, I changed your last answer: "{label}" is now {"yes" if value else "no"}.'


def chosen_so_far(labels: str) -> str:
    return f'Chosen so far: {labels}. Tap more, or tap "{DONE_BUTTON}" when you have finished.'


def days_ago(value) -> str:
    """A stored day range in words: "about 2 years ago", "more than 5 years ago"."""
    if value.high == float("inf"):
        return f"more than {days(int(value.low))} ago" if value.low else "at any time"
    if value.low == value.high:
        return "today" if value.low == 0 else f"{days(int(value.low))} ago"
    if value.low == 0:
        return f"in the last {days(int(value.high))}"
    return f"between {days(int(value.low))} and {days(int(value.high))} ago"

# ---- the contact steps (prescreen/referral/conversation.py) ----
OFFER_DECLINED = "OK. Nothing about you is sent to any study team."
CONSENT_DECLINED = "OK, you did not agree, so nothing is sent and I won't ask for your details."
OFFER_NOT_SURE = ("That's fine. Choosing a study team only lets them call you to explain more. You can still say no "
                  'then. Tap the ones you want and "Done", or "None of them".')
CONSENT_NOT_SURE = ('That\'s fine. Nothing is sent unless you agree. If you agree, tap "Yes, I agree". '
                    'If not, tap "No".')
OFFER_YES_OR_NO = 'Please answer "yes" or "no".'
GOING_BACK_OFFER = "OK, let's go back to the list of study teams."
CONFIRM_STOP = "Do you want to stop here? Nothing more will be asked."
YES_STOP = "Yes, stop"
NO_GO_ON = "No, go on"
GOING_ON = "OK, let's go on."
NO_SPECIAL_CHARACTERS = "Please type it with letters, digits and spaces only, without special characters."


def about_the_study(summary: str) -> str:
    """A question at the offer or consent: a brief answer, then the same question again."""
    return (f"{summary} The study team can answer your questions when they contact you. I can't give medical advice. "
            "Saying yes here does not sign you up for anything.")

# ---- erasure, asked first ----
ERASE_QUESTION = ("Do you want me to erase everything from this chat? That means your answers, any contact details, "
                  "anything not yet sent to a study team, and this conversation. This cannot be undone.")
YES_ERASE = "Yes, erase everything"
NO_KEEP = "No, keep my answers"
NOTHING_ERASED = "OK, nothing was erased."
STARTING_OVER_AFTER_CONSENT = ("OK, let's start again from the beginning. What you already agreed to send will still "
                               'go to that study team. To withdraw it, type "delete my data".')
NONE_OF_THEM = "None of them"
WHICH_TEAMS = 'Which study teams may contact you? Tap each one and then "Done", type their numbers, or say "none".'
ABOUT_THE_STUDIES = ("Choosing a study team only lets them contact you to explain more. It does not sign you up. "
                     "I can't give medical advice; the study team can answer your questions.")
MEDICINES_QUESTION = ("One last, optional question: which medicines do you take now for your illness? This is only for "
                      'the study team. Type "skip" if you prefer.')
MEDICINES_QUESTION_GUARDIAN = ("One last, optional question: which medicines does your child take now for their illness? "
                               'This is only for the study team. Type "skip" if you prefer.')


def choose_teams(guardian: bool, count: int) -> str:
    about = " about your child" if guardian else ""
    if count == 1:
        return f"Would you like this study team to contact you{about}? Tap it and then \"{DONE_BUTTON}\", or \"{NONE_OF_THEM}\"."
    return (f"Which study teams may contact you{about}? Tap each one you want, then \"{DONE_BUTTON}\". "
            "Nothing is sent before you agree.")


def and_list(items) -> str:
    """["HIV", "hepatitis", "pregnancy"] -> "HIV, hepatitis and pregnancy"."""
    items = list(items)
    return str(items[0]) if len(items) == 1 else f"{join(', ', items[:-1])} and {items[-1]}"

LANGUAGE_CHANGED = "OK, let's go on in English."

HOW_LONG = "It takes a few minutes: about 10 short questions, one at a time. You can stop at any time."
QUESTION_FOR_THE_TEAM = "That is a good question for the study team. They can answer it if they contact you."


def changed_to_no(labels: str) -> str:
    return f'OK, I changed your answer to "{labels}" to no.'


def asks_how_long(text: str) -> bool:
    """A question about the screening itself ("how long will this take?"), answered plainly."""
    return bool(re.search(r"how long (will|does|is) (this|it)|how many (more )?questions|how much longer|"
                          r"(almost|nearly) (done|finished|over)|要多久|还有几个问题|多长时间", text or "", re.I))


# Crisis support comes at once for words of suicide or self-harm. NLU's "crisis" intent alone
# ("I want to think about it" has been taken for one) needs a word of distress as well.
_DISTRESS = re.compile(r"\b(die|dying|dead|death|suicid\w*|kill|end it|ending it|end things|hopeless|harm|hurt myself|"
                       r"cant go on|can't go on|give up on life|no reason to live|not worth living|overdose)\b|"
                       r"死|活着|活下去|自杀|轻生|伤害自己|结束生命|绝望", re.I)


def is_crisis(intent: str | None, text: str) -> bool:
    return mentions_crisis(text) or (intent == "crisis" and bool(_DISTRESS.search(text or "")))
NOT_A_PERSON = ("I'm an automated assistant, not a person. The study teams are real people: they can call you "
                "after this check if you ask them to.")


def asks_if_a_person(text: str) -> bool:
    return bool(re.search(r"\b(real person|a person|human|a bot|a robot|automated|computer|ai)\b\??|机器人|真人|人工",
                          text or "", re.I))
QUESTION_AT_A_DETAIL = ("The study team can answer your questions when they contact you. Only they receive these "
                        'details, and only for this study. To stop here, type "stop".')
