"""After the results: offer each study that may fit, ask consent, then contact details.

Nothing identifying is asked before an explicit "yes" to a consent text that says what
is shared, with whom, and how to withdraw. The state is plain JSON, kept by the
assistant in one slot, like the screening's.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from prescreen.screening import wording
from prescreen.screening.answers import AnswerError, check_length, normalise
from prescreen.screening.commands import command_of, plain_command
from prescreen.screening.polarity import NO, NOT_SURE, YES, polarity
from prescreen.screening.conversation import Message, Screening, button
from prescreen.screening.eligibility import MAY_FIT, evaluate_trial
from prescreen.referral.summary import Contact
from prescreen.screening.trials import Catalog, Trial

CONSENT_VERSION = "1"
TIMES = {"morning": "Morning (9-12)", "afternoon": "Afternoon (12-6)", "evening": "Evening (6-8)", "any": "Any time"}
LANGUAGES = {"mandarin": "Mandarin", "cantonese": "Cantonese", "english": "English"}
SKIP_WORDS = ("skip", "no email", "no phone", "none", "dont have", "do not have", "no thanks", "pass")
AGREE_WORDS = ("i agree", "agree", "i consent", "yes i agree", "yes", "同意")

_EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}$")
_NAME_OK = re.compile(r"^[^\d<>{}\[\]@#$%^*=|\\/]{1,100}$")


@dataclass
class Referral:
    """Where the patient is in the contact steps."""

    offers: list[str] = field(default_factory=list)  # trials still to offer, in order
    trial: str | None = None  # the trial being offered now
    step: str = "offer"  # offer | consent | name | phone | email | time | language
    contact: dict = field(default_factory=dict)
    consented: list[str] = field(default_factory=list)  # trials with consent and a handoff
    screening_id: str | None = None
    offered: list[str] = field(default_factory=list)  # trials already offered, so "go back" can offer one again
    confirm: str | None = None  # "stop": a bare "stop" typed where a name was expected, asked back

    def to_json(self) -> dict:
        return dict(offers=self.offers, trial=self.trial, step=self.step, contact=self.contact,
                    consented=self.consented, screening_id=self.screening_id, offered=self.offered,
                    confirm=self.confirm)

    @classmethod
    def from_json(cls, data: dict | None) -> "Referral":
        return cls(**(data or {}))

    @property
    def finished(self) -> bool:
        return self.trial is None and not self.offers


@dataclass(frozen=True)
class Handoff:
    """A consented handoff the adapter must store: the trial and the contact details."""

    trial_id: str
    contact: Contact
    consent_text: str


def start_referral(catalog: Catalog, screening: Screening, screening_id: str | None) -> Referral:
    values, order = screening.values(), list(catalog.facts)
    # "May be a match" and "may fit after a waiting period" both get an offer: the team plans screening.
    offers = [t.id for t in catalog.trials if evaluate_trial(t, values, order).verdict in MAY_FIT]
    referral = Referral(offers=offers, screening_id=screening_id)
    _next_offer(referral)
    return referral


def _next_offer(referral: Referral) -> None:
    if referral.trial is not None:
        referral.offered.append(referral.trial)
    referral.trial = referral.offers.pop(0) if referral.offers else None
    referral.step = "offer"


@dataclass
class ReferralTurn:
    """What one reply in the contact steps gives: what to say, a handoff to store once
    consent and contact are complete, and whether the patient leaves the contact steps
    (`leave`: "screening" to change an answer, "start_over", "withdraw" or "stop")."""

    messages: list[Message]
    handoff: Handoff | None = None
    leave: str | None = None


# The step before each step, for "go back".
PREVIOUS_STEP = {"consent": "offer", "name": "consent", "phone": "name", "email": "phone", "time": "email",
                 "language": "time", "language_other": "language"}
DETAIL_STEPS = ("name", "phone", "email", "time", "language", "language_other")


def consent_text(trial: Trial, guardian: bool) -> str:
    site = trial.sites[0]
    about = "about your child " if guardian else ""
    return (
        f"Before I take any details: if you agree, your answers from this chat {about}and the contact details "
        f"you give me will be sent to the study team at {site.name} in {site.city}, for the study "
        f"\"{trial.short_title}\". They will use them only to contact you about this study. "
        "Nothing is sent to anyone else. You can withdraw at any time by typing \"delete my data\": "
        "your answers, your contact details and anything not yet sent will be erased. "
        f"(Consent text version {CONSENT_VERSION}.)"
    )


class ReferralConversation:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog

    def ask(self, referral: Referral, respondent: str | None) -> Message | None:
        if referral.trial is None:
            return None
        if referral.confirm == "stop":
            return Message(wording.CONFIRM_STOP, [button(wording.YES_STOP, "yes"), button(wording.NO_GO_ON, "no")])
        trial = self.catalog.trial(referral.trial)
        site = trial.sites[0]
        guardian = respondent == "guardian"
        yes_no = [button("Yes", "yes"), button("No", "no")]
        if referral.step == "offer":
            about = " about your child" if guardian else ""
            status = f"{wording.status_note(trial)} " if wording.status_note(trial) else ""
            return Message(f"{status}Would you like the study team for \"{trial.short_title}\" at {site.name}, {site.city}, "
                           f"to contact you{about}?", yes_no)
        if referral.step == "consent":
            return Message(consent_text(trial, guardian) + " Do you agree?",
                           [button("Yes, I agree", "yes"), button("No", "no")])
        if referral.step == "name":
            return Message("What name should the study team ask for when they call?" if not guardian
                           else "What is your name? The study team will ask for you, the parent or guardian.")
        if referral.step == "phone":
            return Message("What phone number can they call? Type \"skip\" to give an email address instead.",
                           [button("Skip", "skip")])
        if referral.step == "email":
            optional = " Type \"skip\" if you don't want to give one." if referral.contact.get("phone") else ""
            return Message("What email address can they write to?" + optional,
                           [button("Skip", "skip")] if referral.contact.get("phone") else [])
        if referral.step == "language_other":
            return Message("Please type the language you would like them to use.")
        if referral.step == "time":
            return Message("When is the best time to contact you?", [button(label, f"choice:{k}") for k, label in TIMES.items()])
        return Message("Which language would you like them to use?",
                       [button(label, f"choice:{k}") for k, label in LANGUAGES.items()] + [button("Another language", "other")])

    def receive(self, referral: Referral, text: str, respondent: str | None,
                intent: str | None = None, tapped: bool = False) -> ReferralTurn:
        """Apply one reply to the offer, the consent question or a contact detail.

        Commands work at every step ("why", "go back", "start over", "stop", "delete my
        data", a question about the study). Where a name, phone or email is expected the
        text is the detail, unless it is exactly a command phrase; a bare "stop" there is
        asked back. Only an explicit no declines an offer or consent; crisis words get
        support at once, at any step.
        """
        if intent == "crisis" or wording.mentions_crisis(text):
            return ReferralTurn([Message(wording.CRISIS_SUPPORT)])  # before anything else; the question is asked again
        try:
            check_length(text)
        except AnswerError as error:
            return ReferralTurn([Message(error.hint)])
        if referral.trial is None:
            return ReferralTurn([])
        step = referral.step
        tapped = tapped or text.startswith("choice:")
        command = None if tapped else plain_command(text) if step in DETAIL_STEPS else command_of(intent, text)
        if referral.confirm == "stop":
            referral.confirm = None
            if polarity(text) == YES:
                return self._stop(referral)
            return ReferralTurn([Message(wording.GOING_ON)])
        if command == "stop":
            if step in DETAIL_STEPS:
                referral.confirm = "stop"
                return ReferralTurn([])
            return self._stop(referral)
        if command in ("withdraw", "start_over"):
            return ReferralTurn([], leave=command)
        if command == "ask_why":
            return ReferralTurn([Message(WHY_STEP.get(step, WHY_STEP["name"]))])
        if command == "go_back":
            return self._go_back(referral)
        trial = self.catalog.trial(referral.trial)
        if step in ("offer", "consent"):
            return self._offer_or_consent(referral, trial, step, text, respondent, intent)
        try:
            if step == "name":
                referral.contact["name"] = _name(text)
                referral.step = "phone"
            elif step == "phone":
                referral.contact["phone"] = None if _skip(text) else _phone(text)
                referral.step = "email"
            elif step == "email":
                if _skip(text):
                    if not referral.contact.get("phone"):
                        raise AnswerError("The study team needs a phone number or an email address. Please give one.")
                    referral.contact["email"] = None
                else:
                    referral.contact["email"] = _email(text)
                referral.step = "time"
            elif step == "time":
                referral.contact["preferred_time"] = _pick(text, TIMES, free_text=True)
                referral.step = "language"
            elif step == "language" and (text == "other" or _asks_other_language(text)):
                referral.step = "language_other"
            elif step in ("language", "language_other"):
                referral.contact["language"] = _pick(text, LANGUAGES, free_text=True) if step == "language" \
                    else _free_text(text)
                return self._complete(referral, trial, respondent, reused=False)
        except AnswerError as error:
            return ReferralTurn([Message(error.hint)])
        return ReferralTurn([])

    def _offer_or_consent(self, referral: Referral, trial: Trial, step: str, text: str, respondent: str | None,
                          intent: str | None) -> ReferralTurn:
        reply = polarity(text)
        agreed = reply == YES or normalise(text) in [normalise(w) for w in AGREE_WORDS]
        if agreed and step == "offer":
            referral.step = "consent"
            return ReferralTurn([])
        if agreed:
            if referral.contact.get("name") and (referral.contact.get("phone") or referral.contact.get("email")):
                return self._complete(referral, trial, respondent, reused=True)
            referral.step = "name"
            return ReferralTurn([])
        if reply == NO:
            _next_offer(referral)
            return ReferralTurn([Message(wording.OFFER_DECLINED if step == "offer" else wording.CONSENT_DECLINED)])
        if reply == NOT_SURE:
            return ReferralTurn([Message(wording.OFFER_NOT_SURE if step == "offer" else wording.CONSENT_NOT_SURE)])
        if intent in ("medical_question", "out_of_scope", "ask_why") or "?" in text or _asks_to_ask(text):
            return ReferralTurn([Message(wording.about_the_study(trial.plain_summary))])
        if intent in wording.SMALL_TALK and intent != "nlu_fallback":
            return ReferralTurn([Message(wording.SMALL_TALK[intent])])
        return ReferralTurn([Message(wording.OFFER_YES_OR_NO)])

    def _go_back(self, referral: Referral) -> ReferralTurn:
        if referral.step == "offer":
            if not referral.offered:  # the first offer: back to the screening's last question
                return ReferralTurn([], leave="screening")
            referral.offers.insert(0, referral.trial)
            referral.trial = referral.offered.pop()
            return ReferralTurn([Message(wording.GOING_BACK_OFFER)])
        referral.step = PREVIOUS_STEP[referral.step]
        return ReferralTurn([Message(wording.GOING_BACK)])

    def _stop(self, referral: Referral) -> ReferralTurn:
        sent = referral.consented
        referral.offers, referral.trial, referral.confirm = [], None, None
        return ReferralTurn([Message(wording.STOPPED_AFTER_CONSENT if sent else wording.STOPPED)], leave="stop")

    def _complete(self, referral, trial, respondent, reused: bool):
        contact = Contact(**{k: referral.contact.get(k) for k in ("name", "phone", "email", "preferred_time", "language")})
        handoff = Handoff(trial.id, contact, consent_text(trial, respondent == "guardian"))
        referral.consented.append(trial.id)
        _next_offer(referral)
        site = trial.sites[0]
        again = "I used the contact details you gave before. " if reused else ""
        return ReferralTurn([Message(f"Thank you. {again}Your answers and contact details will be sent to the study team at "
                        f"{site.name}, {site.city}. They will contact you; only they can decide if you can join. "
                        'To withdraw, type "delete my data" at any time.')], handoff)

    def closing(self, referral: Referral) -> Message:
        if referral.consented:
            return Message("That's everything. Thank you, and take care.")
        return Message("That's everything. Nothing has been sent to anyone. Thank you, and take care.")


WHY_STEP = {
    "offer": "If you say yes, I will first show you what would be shared and ask your permission. Nothing is sent before that.",
    "consent": "The study team can only contact you if you agree. Nothing about you is shared without your yes.",
    "name": "The study team needs a name and a phone number or email address to contact you about this study.",
}


def _asks_to_ask(text: str) -> bool:
    norm = normalise(text)
    return any(p in norm for p in ("can i ask", "may i ask", "i have a question", "question first", "tell me more",
                                   "what is this study", "what does it involve", "more about", "more information"))


def _asks_other_language(text: str) -> bool:
    return normalise(text) in ("other", "another language", "another", "a different language", "something else")


def _has_control(text: str) -> bool:
    """Control and invisible format characters (Unicode Cc/Cf): they spoof names on staff pages and in CSV."""
    return any(unicodedata.category(c) in ("Cc", "Cf") for c in text)


def _free_text(text: str) -> str:
    value = " ".join(text.split())
    if _has_control(text) or not _NAME_OK.match(value) or len(value) > 60:
        raise AnswerError("Please type the name of the language in a few letters, for example \"French\".")
    return value


def _skip(text: str) -> bool:
    norm = normalise(text)
    return any(norm == w or norm.startswith(w + " ") for w in SKIP_WORDS)


def _name(text: str) -> str:
    if _has_control(text):
        raise AnswerError(wording.NO_SPECIAL_CHARACTERS)
    name = " ".join(text.split())
    if not name or not _NAME_OK.match(name) or len(name) < 2:
        raise AnswerError("Please type just the name, for example \"Li Wei\".")
    return name


def _phone(text: str) -> str:
    if _has_control(text):
        raise AnswerError(wording.NO_SPECIAL_CHARACTERS)
    cleaned = re.sub(r"[\s().-]", "", text)
    if not re.fullmatch(r"\+?\d{7,15}", cleaned):
        raise AnswerError("That doesn't look like a phone number. Please type it with digits, for example 138 0013 8000,"
                          " or type \"skip\".")
    return cleaned


def _email(text: str) -> str:
    if _has_control(text):
        raise AnswerError(wording.NO_SPECIAL_CHARACTERS)
    address = text.strip()
    if not _EMAIL.match(address):
        raise AnswerError("That doesn't look like an email address. Please check it, for example name@example.com.")
    return address


def _pick(text: str, options: dict[str, str], free_text: bool) -> str:
    if text.startswith("choice:") and text[7:] in options:
        return options[text[7:]]
    norm = normalise(text)
    for key, label in options.items():
        if key in norm or normalise(label) == norm:
            return label
    if free_text and not _has_control(text) and _NAME_OK.match(text.strip()) and len(text.strip()) <= 60:
        return " ".join(text.split())
    raise AnswerError("Please choose one of the buttons, or type a few words.")
