"""After the results: offer each study that may fit, ask consent, then contact details.

Nothing identifying is asked before an explicit "yes" to a consent text that says what
is shared, with whom, and how to withdraw. The state is plain JSON, kept by the
assistant in one slot, like the screening's.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from prescreen.screening import wording
from prescreen.screening.commands import says_command
from prescreen.screening.answers import AnswerError, check_length, normalise, parse_not_sure, parse_yes_no
from prescreen.screening.conversation import Message, Screening, button
from prescreen.screening.eligibility import POSSIBLY_ELIGIBLE, evaluate_trial
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

    def to_json(self) -> dict:
        return dict(offers=self.offers, trial=self.trial, step=self.step, contact=self.contact,
                    consented=self.consented, screening_id=self.screening_id)

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
    offers = [t.id for t in catalog.trials if evaluate_trial(t, values, order).verdict == POSSIBLY_ELIGIBLE]
    referral = Referral(offers=offers, screening_id=screening_id)
    _next_offer(referral)
    return referral


def _next_offer(referral: Referral) -> None:
    referral.trial = referral.offers.pop(0) if referral.offers else None
    referral.step = "offer"


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
        trial = self.catalog.trial(referral.trial)
        site = trial.sites[0]
        guardian = respondent == "guardian"
        yes_no = [button("Yes", "yes"), button("No", "no")]
        if referral.step == "offer":
            about = " about your child" if guardian else ""
            return Message(f"Would you like the study team for \"{trial.short_title}\" at {site.name}, {site.city}, "
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
        if referral.step == "time":
            return Message("When is the best time to contact you?", [button(label, f"choice:{k}") for k, label in TIMES.items()])
        return Message("Which language would you like them to use?",
                       [button(label, f"choice:{k}") for k, label in LANGUAGES.items()] + [button("Another language", "other")])

    def receive(self, referral: Referral, text: str, respondent: str | None,
                intent: str | None = None) -> tuple[list[Message], Handoff | None]:
        """Apply one reply. Returns what to say, and a handoff to store once consent and contact are complete.

        Free text here (names, emails) is easily taken by NLU for a command, so "stop"
        counts only with a stop word in it. Crisis words get support at once, at any step.
        """
        if intent == "crisis" or wording.mentions_crisis(text):
            return [Message(wording.CRISIS_SUPPORT)], None  # before anything else; the question is asked again
        try:
            check_length(text)
        except AnswerError as error:
            return [Message(error.hint)], None
        if referral.trial is None:
            return [], None
        if intent == "stop" and says_command(intent, text):
            sent = referral.consented
            referral.offers, referral.trial = [], None
            return [Message(wording.STOPPED_AFTER_CONSENT if sent else wording.STOPPED)], None
        trial = self.catalog.trial(referral.trial)
        step = referral.step
        if step == "offer":
            if _yes(text) is None:
                return [Message('Please answer "yes" or "no".')], None
            if not _yes(text):
                _next_offer(referral)
                return [Message("OK. Nothing about you is sent to that study team.")], None
            referral.step = "consent"
            return [], None
        if step == "consent":
            if normalise(text) in [normalise(w) for w in AGREE_WORDS]:
                if referral.contact.get("name") and (referral.contact.get("phone") or referral.contact.get("email")):
                    return self._complete(referral, trial, respondent, reused=True)
                referral.step = "name"
                return [], None
            _next_offer(referral)
            return [Message("OK, you did not agree, so nothing is sent and I won't ask for your details.")], None
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
            elif step == "language":
                referral.contact["language"] = _pick(text, LANGUAGES, free_text=True)
                return self._complete(referral, trial, respondent, reused=False)
        except AnswerError as error:
            return [Message(error.hint)], None
        return [], None

    def _complete(self, referral, trial, respondent, reused: bool):
        contact = Contact(**{k: referral.contact.get(k) for k in ("name", "phone", "email", "preferred_time", "language")})
        handoff = Handoff(trial.id, contact, consent_text(trial, respondent == "guardian"))
        referral.consented.append(trial.id)
        _next_offer(referral)
        site = trial.sites[0]
        again = "I used the contact details you gave before. " if reused else ""
        return [Message(f"Thank you. {again}Your answers and contact details will be sent to the study team at "
                        f"{site.name}, {site.city}. They will contact you; only they can decide if you can join. "
                        'To withdraw, type "delete my data" at any time.')], handoff

    def closing(self, referral: Referral) -> Message:
        if referral.consented:
            return Message("That's everything. Thank you, and take care.")
        return Message("That's everything. Nothing has been sent to anyone. Thank you, and take care.")


def _yes(text: str) -> bool | None:
    if parse_not_sure(text):
        return None
    try:
        return parse_yes_no(text)
    except AnswerError:
        return None


def _skip(text: str) -> bool:
    norm = normalise(text)
    return any(norm == w or norm.startswith(w + " ") for w in SKIP_WORDS)


def _name(text: str) -> str:
    name = " ".join(text.split())
    if not name or not _NAME_OK.match(name) or len(name) < 2:
        raise AnswerError("Please type just the name, for example \"Li Wei\".")
    return name


def _phone(text: str) -> str:
    cleaned = re.sub(r"[\s().-]", "", text)
    if not re.fullmatch(r"\+?\d{7,15}", cleaned):
        raise AnswerError("That doesn't look like a phone number. Please type it with digits, for example 138 0013 8000,"
                          " or type \"skip\".")
    return cleaned


def _email(text: str) -> str:
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
    if norm in ("other", "another language", "another"):
        raise AnswerError("Please type the language you would like.")
    if free_text and _NAME_OK.match(text.strip()) and len(text.strip()) <= 60:
        return " ".join(text.split())
    raise AnswerError("Please choose one of the buttons, or type a few words.")
