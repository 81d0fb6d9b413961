"""What the assistant says, in short sentences and common words.

Kept apart from the Rasa adapters so the wording is tested directly and reviewed in
one place. Never "you are eligible": a study "may be a match", the study team decides.
"""
from __future__ import annotations

import re

from prescreen.screening.trials import Catalog


def welcome_message(catalog: Catalog) -> str:
    places = sorted({site.city for trial in catalog.trials for site in trial.sites})
    return (
        f"Hello. I can help you check if one of {len(catalog.trials)} research studies of new cell "
        f"treatments might suit you. The studies are at hospitals in {', '.join(places[:-1])} and {places[-1]}. "
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
    "thank": "You're welcome.",
    "goodbye": 'If you want to stop, type "stop".',
    "out_of_scope": "Sorry, I can only help check these studies.",
    "nlu_fallback": "Sorry, I didn't understand that.",
}
RESULTS_INTRO = (
    "Thank you. Here is what your answers suggest for each study. "
    "This is not a decision: only the study team can decide who can join."
)

_CRISIS = re.compile(
    r"\b(kill(ing)? (my|him|her)self|suicid\w*|end(ing)? (my|his|her) life|take (my|his|her) (own )?life|"
    r"self[- ]?harm\w*|hurt(ing)? (my|him|her)self|(want|wanted) to die|better off dead|don'?t want to (live|be alive))\b|"
    r"自杀|轻生|不想活",
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


def _where(trial) -> str:
    return "; ".join(f"{site.name}, {site.city}" for site in trial.sites)


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


def does_not_fit(trial, failed) -> str:
    first = failed[0].criterion
    reason = first.plain or f'The study\'s rule says: "{first.text}"'
    more = f" ({len(failed) - 1} other rule{'s' if len(failed) > 2 else ''} also did not fit.)" if len(failed) > 1 else ""
    return f"{trial.short_title}: this study does not seem to fit. {reason}{more}"


def _about(trial, site_checks, unsure_topics) -> list[str]:
    """What follows the verdict: the study, its status, where, and what the team still checks."""
    parts = [trial.plain_summary]
    for note in (status_note(trial), trial.age_note):
        if note:
            parts.append(note)
    parts.append(f"Where: {_where(trial)}.")
    unsure = f"what you were not sure about: {', '.join(t.lower() for t in unsure_topics)}" if unsure_topics else ""
    if trial.criteria_incomplete:  # no count: "everything else" and "1 thing" never side by side
        parts.append("This study has not published its full rules, so the study team will go through them with you"
                     + (f", including {unsure}." if unsure else "."))
        return parts
    count = len(site_checks)
    checks = f"The study team still needs to check {count} thing{'s' if count != 1 else ''}, such as tests and medical records"
    parts.append(checks + (f", and {unsure}." if unsure else "."))
    return parts


def may_fit(trial, site_checks, unsure_topics) -> str:
    return " ".join([f"{trial.short_title}: this study may be a match."] + _about(trial, site_checks, unsure_topics))


def may_fit_later(trial, waiting_for, earliest, site_checks, unsure_topics) -> str:
    """A study whose only failures are waiting periods: when, and why, in plain words."""
    reasons = []
    for result in waiting_for:
        reason = result.criterion.plain or f'The study\'s rule says: "{result.criterion.text}"'
        if reason not in reasons:
            reasons.append(reason)
    head = (f"{trial.short_title}: this study may fit after a waiting period, from about {date_text(earliest)}. "
            f"{' '.join(reasons)} The study team can plan the screening with you.")
    return " ".join([head] + _about(trial, site_checks, unsure_topics))


def what_next(fits) -> str:
    if not fits:
        return (
            "None of these studies seems to fit right now. Your own doctor can talk with you about other options. "
            'Thank you for your time. If an answer was wrong, type "go back" or "start over".'
        )
    sites = "; ".join(_where(trial) for trial in fits)
    return (
        f"What next: the study team can tell you more. The studies that may fit, now or after a wait, are run at: {sites}. "
        'Thank you for your time. If an answer was wrong, type "go back" or "start over".'
    )


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
OFFER_NOT_SURE = ("That's fine. Saying yes only lets the study team call you to explain more. You can still say no then. "
                  'Would you like them to contact you? Please answer "yes" or "no".')
CONSENT_NOT_SURE = ('That\'s fine. Nothing is sent unless you agree. If you agree, tap "Yes, I agree". '
                    'If not, tap "No".')
OFFER_YES_OR_NO = 'Please answer "yes" or "no".'
GOING_BACK_OFFER = "OK, let's go back to the study before."
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
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
