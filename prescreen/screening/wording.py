"""What the assistant says, in short sentences and common words.

Kept apart from the Rasa adapters so the wording is tested directly and reviewed in
one place. Never "you are eligible": a study "may be a match", the study team decides.
Every text is marked with `_()` (prescreen/i18n.py) and read in the conversation's
language; its Chinese is in prescreen/locale/zh/LC_MESSAGES/screening.po. Lists, dates
and counts follow the language too (Babel's list and date formats, ngettext).
"""
from __future__ import annotations

import re

from babel.dates import format_date
from babel.lists import format_list

from prescreen.i18n import _, current, join, ngettext
from prescreen.screening.trials import Catalog


def babel_locale() -> str:
    """The Babel locale of the conversation's language, for lists and dates
    (British English: "12 January 2027", "A, B and C")."""
    return "en_GB" if current() == "en" else current()


def sentences(*parts) -> str:
    """Sentences one after another: a space between them in English, none in Chinese."""
    return join("" if current() == "zh" else " ", (p for p in parts if p))


LIST_SEPARATOR = _(", ")  # between the items of a plain list ("Chosen so far: A, B")
PLACES_SEPARATOR = _("; ")  # between places, each with its city


def plain_list(items) -> str:
    """["A", "B"] -> "A, B" (no "and"): the chosen items, the unsure topics."""
    return join(LIST_SEPARATOR, items)


def and_list(items) -> str:
    """["HIV", "hepatitis", "pregnancy"] -> "HIV, hepatitis and pregnancy"."""
    return format_list([str(item) for item in items], locale=babel_locale())


def or_list(items) -> str:
    """["lupus", "myositis"] -> "lupus or myositis"."""
    return format_list([str(item) for item in items], style="or", locale=babel_locale())


WELCOME = _(
    "Hello. I can help you check if one of {count} research studies of new cell "
    "treatments might suit you. The studies are at hospitals in {places}. "
    "I will ask a few short questions, one at a time. "
    "You don't need to give your name to check. "
    "This is not medical advice, and only the study team can decide if you can join. "
    "You can type \"stop\" at any time."
)


def welcome_message(catalog: Catalog) -> str:
    places = sorted({str(site.city) for trial in catalog.trials for site in trial.sites})
    return WELCOME.format(count=len(catalog.trials), places=and_list(places))


WHO_IS_ANSWERING = _("First, who is answering today?")
WHY_WHO_IS_ANSWERING = _("So I can ask the questions the right way, about you or about your child.")
HELPER_NOTE = _("Please answer for the person you are helping.")
WHICH_ONES = _('Which ones? Tap each one that applies, or type their numbers, for example "1 and 3".')
MOVING_ON = _("That's OK, let's move on. The study team can check this with you later.")
GOING_BACK = _("OK, let's go back. You can change your last answer.")
NOTHING_TO_GO_BACK_TO = _("There is no earlier answer to change yet.")
STARTING_OVER = _("OK, let's start again from the beginning. Your earlier answers are cleared.")
ASK_YOUR_DOCTOR = _("I can't give medical advice. Please ask your doctor or the study team about this.")
CARRY_ON = _("We can carry on with the questions whenever you are ready.")
WHY_IN_GENERAL = _(
    "I ask questions that come from each study's own rules, to see which studies may fit. "
    "Only the study team can decide who can join."
)
STOPPED = _(
    "OK, I've stopped. Nothing has been sent to anyone. "
    'If you want to check again later, just say "hi".'
)
CRISIS_SUPPORT = _(
    "I'm sorry you are going through this. You are not alone, and help is available now. "
    "In mainland China, you can call the mental health hotline 12356, or the Beijing "
    "Psychological Crisis Intervention hotline 010-82951332 (day and night). "
    "If you might act on these thoughts, call 120 or go to the nearest emergency department now. "
    "Outside China, call your local emergency number."
)
SMALL_TALK = {
    "greet": _("Hello again. Let's carry on."),
    "thank": _("You're welcome."),
    "goodbye": _('If you want to stop, type "stop".'),
    "out_of_scope": _("Sorry, I can only help check these studies."),
    "nlu_fallback": _("Sorry, I didn't understand that."),
}
RESULTS_INTRO = _("Thank you. Your results are ready.")
RESULTS_READY = _("Thank you. Your results are ready. {summary}.")
RESULTS_WHERE = _('Each study has a short card under "Your results", below the chat. '
                  "This is not a decision: only the study team can decide who can join.")
RESULTS_NONE_FIT = _("None of these studies seems to fit right now. Your own doctor can talk with you about other options.")
RESULTS_CHANGE = _('If an answer was wrong, type "go back" or "start over".')
CARD_LABELS = {  # the cards' fixed words, sent with the results so the page holds no wording of its own
    "more": _("More about this study"),
    "checks": _("What the study team still checks"),
    "other_reasons": _("Other reasons"),
    "announce_where": _("The cards are below the chat."),
}

_CRISIS = re.compile(
    r"\b(kill(ing)? (my|him|her)self|suicid\w*|end(ing)? (my|his|her) life|take (my|his|her) (own )?life|"
    r"self[- ]?harm\w*|hurt(ing)? (my|him|her)self|(want|wanted) to die|better off dead|don'?t want to (live|be alive)|"
    r"end it all|end everything|(want|going|gonna) to end it|rather be dead|never wake up|overdose|od on|"
    r"no reason to live|not worth living|can'?t go on)\b|"
    r"自杀|轻生|寻死|想死|去死|不想活|活不下去|活着没意思|活着有什么意思|活着没什么意思|活够了|结束生命|结束自己|"
    r"了结自己|了断|伤害自己|割腕|跳楼|一死了之|死了算了|不如死了|死了更好|离开这个世界|不想活在这个世界",
    re.IGNORECASE,
)


def mentions_crisis(text: str) -> bool:
    """Words of suicide or self-harm: crisis support comes first, whatever the question."""
    return bool(_CRISIS.search(text or ""))


A_FEW_MORE = _("Thank you. A few more questions.")


def progress_hint(answered: int) -> str | None:
    if answered in (4, 8, 12, 16):
        return A_FEW_MORE
    return None


def days(count: int) -> str:
    """14 -> "2 weeks", 90 -> "3 months", 1825 -> "5 years" (in Chinese "2周", "3个月", "5年")."""
    if count >= 365 and count % 365 == 0:
        n = count // 365
        return ngettext("{count} year", "{count} years", n).format(count=n)
    if count >= 30 and count % 30 == 0:
        n = count // 30
        return ngettext("{count} month", "{count} months", n).format(count=n)
    if count >= 7 and count % 7 == 0:
        n = count // 7
        return ngettext("{count} week", "{count} weeks", n).format(count=n)
    return ngettext("{count} day", "{count} days", count).format(count=count)


STATUS_NOTES = {
    "not_yet_recruiting": _("This study is not yet recruiting: you can ask to be contacted when it opens."),
    "active_not_recruiting": _("This study is not taking new people at the moment."),
    "completed": _("This study has finished."),
}


def status_note(trial) -> str | None:
    """The study's recruitment status, when patients must know it (it is not recruiting yet)."""
    return STATUS_NOTES.get(trial.status)


def date_text(day) -> str:
    """2027-01-12 -> "12 January 2027" (in Chinese "2027年1月12日")."""
    return format_date(day, "long", locale=babel_locale())


# ---- the results: one short card per study (prescreen/screening/results.py) ----
VERDICT_LABELS = {
    "possibly_eligible": _("May be a match"),
    "possibly_eligible_later": _("May fit after a waiting period"),
    "not_eligible": _("Does not seem to fit"),
}
_MAY_BE_A_MATCH = {"self": _("This study may be a match."),
                   "guardian": _("This study may be a match for your child."),
                   "helper": _("This study may be a match for the person you help.")}
_DOES_NOT_FIT = {"self": _("This study does not seem to fit."),
                 "guardian": _("This study does not seem to fit for your child."),
                 "helper": _("This study does not seem to fit for the person you help.")}
_FITS_LATER = _("This study may fit after a waiting period.")
_FITS_LATER_FROM = _("This study may fit after a waiting period, from about {date}.")  # the date is what matters here
STATUS_SHORT = {"not_yet_recruiting": _("It is not recruiting yet."),
                "active_not_recruiting": _("It is not taking new people now."),
                "completed": _("It has finished.")}
UNSURE_ON_CARD = _("The team will check what you were not sure about.")
NEXT_SHORT = _("The team can call you if you ask.")


def verdict_sentence(verdict: str, respondent: str | None, earliest=None) -> str:
    """"This study may be a match for your child." """
    whom = respondent if respondent in _MAY_BE_A_MATCH else "self"
    if verdict == "possibly_eligible":
        return _MAY_BE_A_MATCH[whom]
    if verdict == "possibly_eligible_later":
        return _FITS_LATER_FROM.format(date=date_text(earliest)) if earliest else _FITS_LATER
    return _DOES_NOT_FIT[whom]


def from_when(day) -> str:
    return _("From about {date}.").format(date=date_text(day))


def rule_reason(criterion, respondent: str | None) -> str:
    """A criterion in the patient's words; the listing's own words only where none were written."""
    return criterion.plain_for(respondent) or _('The study\'s rule says: "{rule}"').format(rule=criterion.text)


def illness_reason(labels: list[str]) -> str:
    """The illness first when the illness is the reason: "This study is for lupus (SLE)." """
    names = [_lower_first(str(label)) for label in labels]
    return _("This study is for {illnesses}.").format(illnesses=or_list(names))


def _lower_first(label: str) -> str:
    first = label.split()[0] if label.split() else label
    if len(first) > 1 and (first[1].isupper() or "'" in first or "’" in first):
        return label  # "ANCA vasculitis", "Sjögren's syndrome"
    return label[:1].lower() + label[1:]


def where_text(sites) -> str:
    """"Where: Union Hospital, Wuhan." (the short name patients know, not the full one)."""
    places = join(PLACES_SEPARATOR, (_("{site}, {city}").format(site=site.label, city=site.city) for site in sites))
    return _("Where: {places}.").format(places=places)


def next_text(verdict: str, callback_days: int | None) -> str | None:
    """What happens next and when: the per-site setting, or no timeframe where none is set."""
    if verdict == "not_eligible":
        return None
    if callback_days:
        return ngettext("If you ask to be contacted, the team usually calls within {count} working day.",
                        "If you ask to be contacted, the team usually calls within {count} working days.",
                        callback_days).format(count=callback_days)
    return _("If you ask to be contacted, the study team will call you.")


def phone_text(phone: str | None) -> str:
    return _("Phone: {phone}.").format(phone=phone) if phone else _("No phone number is listed.")


def incomplete_rules_text(unsure_topics) -> str:
    if unsure_topics:
        return _("This study has not published its full rules, so the study team will go through them with you, "
                 "including what you were not sure about: {topics}.").format(topics=plain_list(unsure_topics))
    return _("This study has not published its full rules, so the study team will go through them with you.")


def not_sure_about(labels) -> str:
    """The first thing the team checks: "What you were not sure about: Age, Steroids"."""
    return _("What you were not sure about: {items}").format(items=plain_list(labels))


# What the study team still checks, in plain words: topics found in the criteria's words,
# never a count ("22 things") and never the listing's numbers.
CHECK_TOPICS = (
    (_("Blood and urine tests"), r"blood|urine|serum|h(a)?emoglobin|platelet|neutrophil|lymphocyte|white cell|count|"
                                 r"creatinine|bilirubin|\bALT\b|\bAST\b|HBV|HCV|HBsAg|HBcAb|HIV|syphilis|antibod|antigen|"
                                 r"test|laborator|eGFR|albumin|protein|DNA|titer"),
    (_("Scores of how active the illness is"), r"score|SLEDAI|BILAG|\bPGA\b|ECOG|activity|classification"),
    (_("Checks of the heart, lungs and other organs"), r"heart|cardiac|ECG|echocardio|ejection|lung|pulmonary|oxygen|"
                                                       r"liver|kidney|renal|nephritis|organ|brain|nervous|spinal"),
    (_("Past treatments and medicines"), r"treatment|therap|medicin|drug|steroid|glucocorticoid|dose|vaccin|prednison|"
                                         r"transfusion|dialysis|plasma|surgery|operation|transplant"),
    (_("Pregnancy and birth control"), r"pregnan|contracep|breast|lactat|fertil"),
    (_("The consent form and the study visits"), r"consent|complian|cooperat|follow-up|willing|voluntar"),
)
OTHER_RECORDS = _("Other parts of the medical records")


def check_topics(texts) -> list[str]:
    """Plain topics for the criteria texts (and site-check notes) the team still has to check."""
    found = set()
    for text in texts:
        hits = [n for n, (_label, pattern) in enumerate(CHECK_TOPICS) if re.search(pattern, str(text), re.IGNORECASE)]
        found |= set(hits) or {len(CHECK_TOPICS)}
    return [label for n, (label, _pattern) in enumerate(CHECK_TOPICS) if n in found] + \
        ([OTHER_RECORDS] if len(CHECK_TOPICS) in found else [])


def results_in_chat(verdicts: list[str]) -> str:
    """Said once in the chat: how many studies may fit, and where the cards are."""
    return _results_text(verdicts, True)


def results_summary(verdicts: list[str]) -> str:
    """What the page announces when the cards appear: "Your results are ready. 5 studies may be a match." """
    return _results_text(verdicts, False)


def _count_phrase(key: str, n: int) -> str:
    if key == "possibly_eligible":
        return ngettext("{count} study may be a match", "{count} studies may be a match", n).format(count=n)
    if key == "possibly_eligible_later":
        return ngettext("{count} study may fit after a waiting period",
                        "{count} studies may fit after a waiting period", n).format(count=n)
    return ngettext("{count} study does not seem to fit", "{count} studies do not seem to fit", n).format(count=n)


def _results_text(verdicts: list[str], in_chat: bool) -> str:
    parts = [_count_phrase(key, n) for key in VERDICT_LABELS if (n := sum(v == key for v in verdicts))]
    if len(parts) == 3:
        summary = _("{first}, {second} and {third}").format(first=parts[0], second=parts[1], third=parts[2])
    elif len(parts) == 2:
        summary = _("{first} and {second}").format(first=parts[0], second=parts[1])
    else:
        summary = parts[0]
    text = RESULTS_READY.format(summary=f"{summary[0].upper()}{summary[1:]}")
    if not in_chat:
        return text
    none_fit = RESULTS_NONE_FIT if not any(v != "not_eligible" for v in verdicts) else None
    return sentences(text, RESULTS_WHERE, none_fit, RESULTS_CHANGE)


NOT_SCREENING_NOW = _('To check the studies again, say "hi". To change an answer, say "go back".')

ERASED = _(
    "Done. I have erased your answers, any contact details, anything not yet sent, and this conversation. "
    'If you want to check again later, just say "hi".'
)

STOPPED_AFTER_CONSENT = _(
    "OK, I've stopped. What you already agreed to send will still go to that study team. "
    'To withdraw it, type "delete my data".'
)

TOO_LONG = _("That message is too long for me. Please answer in a few words.")

TECHNICAL_PROBLEM = _(
    "Sorry, we have a technical problem. Please try again in a moment. "
    "If it keeps happening, please try again later."
)

# ---- understanding typed replies (prescreen/screening/answers.py, conversation.py) ----
YES_NO_HINT = _('Please answer "yes", "no" or "I\'m not sure". You can also tap a button.')
MIXED_REPLY = _('Sorry, I\'m not sure I understood. Is the answer "yes" or "no"? If you are not sure, that\'s fine too.')
CHECKLIST_HINT = _('Please tap the ones that apply and then "Done", type their numbers (for example "1 and 3"), '
                   'or say "none of these".')
MIXED_CHECKLIST = _('Sorry, I\'m not sure I understood. Which of these apply? Type their numbers, or say "none of these".')
YES_THATS_RIGHT = _("Yes, that's right")
NO_I_MEANT_NO = _("No, I meant no")
NO_I_MEANT_YES = _("No, I meant yes")
NO_LET_ME_CHANGE = _("No, let me change it")
LETS_TRY_AGAIN = _("OK, let's try that question again.")
YES_OR_NO_TO_READ_BACK = _('Please tap "Yes, that\'s right" or "No", or type your answer again.')
DONE_BUTTON = _("Done")
CONTINUE_BUTTON = _("Continue when you are ready")
CONTINUE_WHEN_READY = _("Take your time. When you are ready, tap the button to continue.")
YES_BUTTON = _("Yes")
NO_BUTTON = _("No")
NOT_SURE_BUTTON = _("I'm not sure")
NONE_OF_THESE = _("None of these")
IN_THE_LAST = _("In the last {period}")  # the time buttons, edged by the rules' limits
BETWEEN_AGO = _("{low} to {high} ago")
MORE_THAN_AGO = _("More than {period} ago")
ANY_TIME = _("Any time")


def read_back(said: str) -> str:
    """Before a typed answer alone rules a study out: one short question."""
    return _("Just to check: {said}. Is that right?").format(said=said)


def said_yes_no(label: str, value: bool) -> str:
    if value:
        return _('you said yes to "{label}"').format(label=label)
    return _('you said no to "{label}"').format(label=label)


def said_value(label: str, value) -> str:
    """One answer in a read-back: "Age: 17"."""
    return _("{label}: {value}").format(label=label, value=value)


def changed_last_answer(label: str, value: bool) -> str:
    if value:
        return _('OK, I changed your last answer: "{label}" is now yes.').format(label=label)
    return _('OK, I changed your last answer: "{label}" is now no.').format(label=label)


def chosen_so_far(labels: str) -> str:
    return _('Chosen so far: {labels}. Tap more, or tap "{done}" when you have finished.').format(
        labels=labels, done=DONE_BUTTON)


def days_ago(value) -> str:
    """A stored day range in words: "about 2 years ago", "more than 5 years ago"."""
    if value.high == float("inf"):
        return _("more than {period} ago").format(period=days(int(value.low))) if value.low else _("at any time")
    if value.low == value.high:
        return _("today") if value.low == 0 else _("{period} ago").format(period=days(int(value.low)))
    if value.low == 0:
        return _("in the last {period}").format(period=days(int(value.high)))
    return _("between {low} and {high} ago").format(low=days(int(value.low)), high=days(int(value.high)))

# ---- the contact steps (prescreen/referral/conversation.py) ----
OFFER_DECLINED = _("OK. Nothing about you is sent to any study team.")
CONSENT_DECLINED = _("OK, you did not agree, so nothing is sent and I won't ask for your details.")
OFFER_NOT_SURE = _("That's fine. Choosing a study team only lets them call you to explain more. You can still say no "
                   'then. Tap the ones you want and "Done", or "None of them".')
CONSENT_NOT_SURE = _('That\'s fine. Nothing is sent unless you agree. If you agree, tap "Yes, I agree". '
                     'If not, tap "No".')
OFFER_YES_OR_NO = _('Please answer "yes" or "no".')
GOING_BACK_OFFER = _("OK, let's go back to the list of study teams.")
CONFIRM_STOP = _("Do you want to stop here? Nothing more will be asked.")
YES_STOP = _("Yes, stop")
NO_GO_ON = _("No, go on")
GOING_ON = _("OK, let's go on.")
NO_SPECIAL_CHARACTERS = _("Please type it with letters, digits and spaces only, without special characters.")
ABOUT_THE_STUDY = _("{summary} The study team can answer your questions when they contact you. "
                    "I can't give medical advice. Saying yes here does not sign you up for anything.")


def about_the_study(summary: str) -> str:
    """A question at the offer or consent: a brief answer, then the same question again."""
    return ABOUT_THE_STUDY.format(summary=summary)

# ---- erasure, asked first ----
ERASE_QUESTION = _("Do you want me to erase everything from this chat? That means your answers, any contact details, "
                   "anything not yet sent to a study team, and this conversation. This cannot be undone.")
YES_ERASE = _("Yes, erase everything")
NO_KEEP = _("No, keep my answers")
NOTHING_ERASED = _("OK, nothing was erased.")
STARTING_OVER_AFTER_CONSENT = _("OK, let's start again from the beginning. What you already agreed to send will still "
                                'go to that study team. To withdraw it, type "delete my data".')
NONE_OF_THEM = _("None of them")
WHICH_TEAMS = _('Which study teams may contact you? Tap each one and then "Done", type their numbers, or say "none".')
ABOUT_THE_STUDIES = _("Choosing a study team only lets them contact you to explain more. It does not sign you up. "
                      "I can't give medical advice; the study team can answer your questions.")
MEDICINES_QUESTION = _("One last, optional question: which medicines do you take now for your illness? This is only for "
                       'the study team. Type "skip" if you prefer.')
MEDICINES_QUESTION_GUARDIAN = _("One last, optional question: which medicines does your child take now for their "
                                'illness? This is only for the study team. Type "skip" if you prefer.')


def choose_teams(guardian: bool, count: int) -> str:
    if count == 1:
        text = _('Would you like this study team to contact you about your child? Tap it and then "{done}", '
                 'or "{none}".') if guardian else \
            _('Would you like this study team to contact you? Tap it and then "{done}", or "{none}".')
        return text.format(done=DONE_BUTTON, none=NONE_OF_THEM)
    text = _('Which study teams may contact you about your child? Tap each one you want, then "{done}". '
             "Nothing is sent before you agree.") if guardian else \
        _('Which study teams may contact you? Tap each one you want, then "{done}". Nothing is sent before you agree.')
    return text.format(done=DONE_BUTTON)

LANGUAGE_CHANGED = _("OK, let's go on in English.")

HOW_LONG = _("It takes a few minutes: about 10 short questions, one at a time. You can stop at any time.")
QUESTION_FOR_THE_TEAM = _("That is a good question for the study team. They can answer it if they contact you.")


def changed_to_no(labels: str) -> str:
    return _('OK, I changed your answer to "{labels}" to no.').format(labels=labels)


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
NOT_A_PERSON = _("I'm an automated assistant, not a person. The study teams are real people: they can call you "
                 "after this check if you ask them to.")


def asks_if_a_person(text: str) -> bool:
    return bool(re.search(r"\b(real person|a person|human|a bot|a robot|automated|computer|ai)\b\??|机器人|真人|人工",
                          text or "", re.I))
QUESTION_AT_A_DETAIL = _("The study team can answer your questions when they contact you. Only they receive these "
                         'details, and only for this study. To stop here, type "stop".')
