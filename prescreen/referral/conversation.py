"""After the results: which study teams may contact the patient, consent per site, contact details.

One multi-select question lists every study that may fit ("Which study teams may
contact you?"); then each chosen site gets its own consent text, naming the site, what
is sent (with the sensitive topics of this patient's answers), why, how long it is kept,
who runs the tool and how to withdraw. Nothing identifying is asked before an explicit
"yes" to it. The state is plain JSON, kept by the assistant in one slot, like the screening's.
"""
from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field, fields

from prescreen.screening import wording
from prescreen.screening.answers import AnswerError, check_length, normalise
from prescreen.screening.chinese import canonical
from prescreen.screening.commands import command_of, plain_command
from prescreen.screening.conversation import Message, Screening, button
from prescreen.screening.eligibility import MAY_FIT, evaluate_trial
from prescreen.screening.polarity import NO, NOT_SURE, YES, polarity
from prescreen.screening.trials import Catalog, Trial
from prescreen.referral.summary import Contact
from prescreen.staff.retention import handoff_retention_days

CONSENT_VERSION = "2"  # stored with each consent; bump it whenever consent_text changes
TIMES = {"morning": "Morning (9-12)", "afternoon": "Afternoon (12-6)", "evening": "Evening (6-8)", "any": "Any time"}
LANGUAGES = {"mandarin": "Mandarin", "cantonese": "Cantonese", "english": "English"}
SKIP_WORDS = ("skip", "no email", "no phone", "none", "dont have", "do not have", "no thanks", "pass", "nothing",
              "no medicines", "no medicine", "prefer not")
AGREE_WORDS = ("i agree", "agree", "i consent", "yes i agree", "yes", "同意")
OPERATOR_DEFAULT = "the research team that runs this screening service for the study sites"
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5}

_EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}$")
_NAME_OK = re.compile(r"^[^\d<>{}\[\]@#$%^*=|\\/]{1,100}$")


@dataclass
class Referral:
    """Where the patient is in the contact steps."""

    offers: list[str] = field(default_factory=list)  # studies that may fit, listed at the "choose" step
    chosen: list[str] = field(default_factory=list)  # ticked at the "choose" step
    queue: list[str] = field(default_factory=list)  # chosen studies still to ask consent for
    trial: str | None = None  # the study whose consent (and then details) is being asked
    step: str = "choose"  # choose | consent | name | phone | email | time | language | language_other | medicines | done
    contact: dict = field(default_factory=dict)
    consented: list[str] = field(default_factory=list)  # studies with consent and a handoff
    screening_id: str | None = None
    sensitive: list[str] = field(default_factory=list)  # sensitive topics in the answers, named in the consent text
    confirm: str | None = None  # "stop": a bare "stop" typed where a name was expected, asked back

    def to_json(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, data: dict | None) -> "Referral":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    @property
    def finished(self) -> bool:
        return self.step == "done"


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
    sensitive = []
    for fact_id in values:
        topic = catalog.facts[fact_id].sensitive if fact_id in catalog.facts else None
        if topic and topic not in sensitive:
            sensitive.append(topic)
    return Referral(offers=offers, screening_id=screening_id, sensitive=sensitive,
                    step="choose" if offers else "done")


@dataclass
class ReferralTurn:
    """What one reply in the contact steps gives: what to say, a handoff to store once
    consent and contact are complete, and whether the patient leaves the contact steps
    (`leave`: "screening" to change an answer, "start_over", "withdraw" or "stop")."""

    messages: list[Message]
    handoff: Handoff | None = None
    leave: str | None = None


# The step before each step, for "go back".
PREVIOUS_STEP = {"consent": "choose", "name": "consent", "phone": "name", "email": "phone", "time": "email",
                 "language": "time", "language_other": "language", "medicines": "language"}
DETAIL_STEPS = ("name", "phone", "email", "time", "language", "language_other", "medicines")
CONTACT_FIELDS = ("name", "phone", "email", "preferred_time", "language", "medicines")


def operator() -> str:
    """Who runs this tool, as the consent text names it: a deployment setting."""
    return os.environ.get("PRESCREEN_OPERATOR", "").strip() or OPERATOR_DEFAULT


def consent_text(trial: Trial, guardian: bool, sensitive: list[str] = ()) -> str:
    """What the patient agrees to for one site. Versioned by CONSENT_VERSION (stored, not shown)."""
    site = trial.sites[0]
    about = " about your child" if guardian else ""
    topics = f", including what you said about {wording.and_list(sensitive)}" if sensitive else ""
    days = int(handoff_retention_days(os.environ, site.id))
    return (
        f"Before I take any details, please read this. If you agree, I will send your answers from this chat{about}"
        f"{topics}, and the contact details you give me, to the study team at {site.name} in {site.city}, "
        f"for the study \"{trial.short_title}\". "
        "They will use them only to contact you about this study and to check if it may suit you. "
        "Nothing is sent to anyone else. "
        f"We keep this for up to {days} days; the study team keeps it under their hospital's rules. "
        f"This chat is run by {operator()}. "
        "What has been sent stays with the study team unless you ask them to delete it. "
        "You can withdraw at any time by typing \"delete my data\": we erase what we hold and tell the study team."
    )


class ReferralConversation:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog

    def ask(self, referral: Referral, respondent: str | None) -> Message | None:
        if referral.step == "done":
            return None
        if referral.confirm == "stop":
            return Message(wording.CONFIRM_STOP, [button(wording.YES_STOP, "yes"), button(wording.NO_GO_ON, "no")])
        guardian = respondent == "guardian"
        if referral.step == "choose":
            return self._choose_question(referral, guardian)
        trial = self.catalog.trial(referral.trial)
        if referral.step == "consent":
            return Message(consent_text(trial, guardian, referral.sensitive) + " Do you agree?",
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
        if referral.step == "medicines":
            return Message(wording.MEDICINES_QUESTION_GUARDIAN if guardian else wording.MEDICINES_QUESTION,
                           [button("Skip", "skip")])
        return Message("Which language would you like them to use?",
                       [button(label, f"choice:{k}") for k, label in LANGUAGES.items()] + [button("Another language", "other")])

    def _choose_question(self, referral: Referral, guardian: bool) -> Message:
        lines, buttons = [], []
        for number, trial_id in enumerate(referral.offers, 1):
            trial = self.catalog.trial(trial_id)
            tick = "✓ " if trial_id in referral.chosen else ""
            note = f" ({wording.status_note(trial)})" if wording.status_note(trial) else ""
            name = _with_city(trial)
            lines.append(f"{tick}{number}. {name}{note}")
            buttons.append(button(f"{tick}{name}", f"choice:offer:{trial_id}"))
        buttons.append(button(wording.DONE_BUTTON, "choice:done") if referral.chosen else
                       button(wording.NONE_OF_THEM, "choice:none"))
        return Message(wording.choose_teams(guardian, len(referral.offers)) + "\n" + "\n".join(lines), buttons)

    def receive(self, referral: Referral, text: str, respondent: str | None,
                intent: str | None = None, tapped: bool = False) -> ReferralTurn:
        """Apply one reply to the choice of study teams, a consent question or a contact detail.

        Commands work at every step ("why", "go back", "start over", "stop", "delete my
        data", a question about the study). Where a name, phone or email is expected the
        text is the detail, unless it is exactly a command phrase; a bare "stop" there is
        asked back. Only an explicit no declines; crisis words get support at once, at any step.
        """
        if wording.is_crisis(intent, text):
            return ReferralTurn([Message(wording.CRISIS_SUPPORT)])  # before anything else; the question is asked again
        try:
            check_length(text)
        except AnswerError as error:
            return ReferralTurn([Message(error.hint)])
        step = referral.step
        if step == "done":
            return ReferralTurn([])
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
        if step == "choose":
            return self._choose(referral, text, intent)
        trial = self.catalog.trial(referral.trial)
        if step == "consent":
            return self._consent(referral, trial, text, respondent, intent)
        if ("?" in text or "？" in text) and not _EMAIL.match(text.strip()):  # a question is never the detail
            return ReferralTurn([Message(wording.QUESTION_AT_A_DETAIL)])
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
                referral.step = "medicines"
            elif step == "medicines":
                referral.contact["medicines"] = None if _skip(text) else _medicines(text)
                return self._complete(referral, trial, respondent, reused=False)
        except AnswerError as error:
            return ReferralTurn([Message(error.hint)])
        return ReferralTurn([])

    def _choose(self, referral: Referral, text: str, intent: str | None) -> ReferralTurn:
        """Taps toggle a study; "Done" goes on; typed numbers or places choose; only a no or "none" declines."""
        if text.startswith("choice:offer:"):
            trial_id = text[len("choice:offer:"):]
            if trial_id in referral.offers:
                referral.chosen = [t for t in referral.offers if (t == trial_id) != (t in referral.chosen)]
            return ReferralTurn([])
        if text == "choice:done" and referral.chosen:
            return self._start_consents(referral, referral.chosen)
        named = self._studies_named(referral, text)
        reply = polarity(text)
        if text == "choice:none" or (not named and reply == NO) or _none_of_them(text):
            referral.step, referral.chosen = "done", []
            return ReferralTurn([Message(wording.OFFER_DECLINED)])
        if named and reply != NOT_SURE:
            return self._start_consents(referral, [t for t in referral.offers if t in set(named) | set(referral.chosen)])
        if reply == YES and len(referral.offers) == 1:
            return self._start_consents(referral, referral.offers)
        if reply == YES or _all_of_them(text):
            if _all_of_them(text):
                return self._start_consents(referral, referral.offers)
            return ReferralTurn([Message(wording.WHICH_TEAMS)])
        if reply == NOT_SURE:
            return ReferralTurn([Message(wording.OFFER_NOT_SURE)])
        if intent in ("medical_question", "out_of_scope", "ask_why") or "?" in text or _asks_to_ask(text):
            return ReferralTurn([Message(wording.ABOUT_THE_STUDIES)])
        if intent in wording.SMALL_TALK and intent != "nlu_fallback":
            return ReferralTurn([Message(wording.SMALL_TALK[intent])])
        return ReferralTurn([Message(wording.WHICH_TEAMS)])

    def _studies_named(self, referral: Referral, text: str) -> list[str]:
        norm = normalise(canonical(text))
        for word, number in ORDINALS.items():  # "the first one", "the second and the third", not "ask something first"
            norm = re.sub(rf"\bthe {word}\b|\b{word} (one|study|team)\b", f" {number} ", norm)
        named = []
        numbers = [int(n) for n in re.findall(r"\b\d\b", norm)]
        for number, trial_id in enumerate(referral.offers, 1):
            trial = self.catalog.trial(trial_id)
            words = {trial.sites[0].city, trial.short_title, trial_id, *(s.name for s in trial.sites)}
            if number in numbers or any(re.search(rf"(?<!\w){re.escape(normalise(w))}(?!\w)", norm) for w in words if w):
                named.append(trial_id)
        return named  # "Hangzhou" names both studies there: each still gets its own consent

    def _start_consents(self, referral: Referral, chosen: list[str]) -> ReferralTurn:
        referral.chosen, referral.queue = list(chosen), list(chosen)
        return self._next_consent(referral, [])

    def _next_consent(self, referral: Referral, messages: list[Message]) -> ReferralTurn:
        referral.trial = referral.queue.pop(0) if referral.queue else None
        referral.step = "consent" if referral.trial else "done"
        return ReferralTurn(messages)

    def _consent(self, referral: Referral, trial: Trial, text: str, respondent: str | None,
                 intent: str | None) -> ReferralTurn:
        reply = polarity(text)
        if reply == YES or normalise(text) in [normalise(w) for w in AGREE_WORDS]:
            if referral.contact.get("name") and (referral.contact.get("phone") or referral.contact.get("email")):
                return self._complete(referral, trial, respondent, reused=True)
            referral.step = "name"
            return ReferralTurn([])
        if reply == NO:
            return self._next_consent(referral, [Message(wording.CONSENT_DECLINED)])
        if reply == NOT_SURE:
            return ReferralTurn([Message(wording.CONSENT_NOT_SURE)])
        if intent in ("medical_question", "out_of_scope", "ask_why") or "?" in text or _asks_to_ask(text):
            return ReferralTurn([Message(wording.about_the_study(trial.summary_for(respondent)))])
        if intent in wording.SMALL_TALK and intent != "nlu_fallback":
            return ReferralTurn([Message(wording.SMALL_TALK[intent])])
        return ReferralTurn([Message(wording.OFFER_YES_OR_NO)])

    def _go_back(self, referral: Referral) -> ReferralTurn:
        if referral.step == "choose":  # back to the screening's last question
            return ReferralTurn([], leave="screening")
        if referral.step == "consent":
            if referral.trial:
                referral.queue.insert(0, referral.trial)
            referral.trial, referral.step = None, "choose"
            return ReferralTurn([Message(wording.GOING_BACK_OFFER)])
        referral.step = PREVIOUS_STEP[referral.step]
        return ReferralTurn([Message(wording.GOING_BACK)])

    def _stop(self, referral: Referral) -> ReferralTurn:
        sent = referral.consented
        referral.queue, referral.trial, referral.confirm, referral.step = [], None, None, "done"
        return ReferralTurn([Message(wording.STOPPED_AFTER_CONSENT if sent else wording.STOPPED)], leave="stop")

    def _complete(self, referral: Referral, trial: Trial, respondent: str | None, reused: bool) -> ReferralTurn:
        contact = Contact(**{k: referral.contact.get(k) for k in CONTACT_FIELDS})
        handoff = Handoff(trial.id, contact, consent_text(trial, respondent == "guardian", referral.sensitive))
        referral.consented.append(trial.id)
        site = trial.sites[0]
        again = "I used the contact details you gave before. " if reused else ""
        thanks = Message(f"Thank you. {again}Your answers and contact details will be sent to the study team at "
                         f"{site.name}, {site.city}. They will contact you; only they can decide if you can join. "
                         'To withdraw, type "delete my data" at any time.')
        turn = self._next_consent(referral, [thanks])
        turn.handoff = handoff
        return turn

    def closing(self, referral: Referral) -> Message:
        if referral.consented:
            return Message("That's everything. Thank you, and take care.")
        return Message("That's everything. Nothing has been sent to anyone. Thank you, and take care.")


WHY_STEP = {
    "choose": "If you choose a study team, I will first show you what would be shared and ask your permission. "
              "Nothing is sent before that.",
    "consent": "The study team can only contact you if you agree. Nothing about you is shared without your yes.",
    "name": "The study team needs a name and a phone number or email address to contact you about this study.",
}


def _asks_to_ask(text: str) -> bool:
    norm = normalise(text)
    return any(p in norm for p in ("can i ask", "may i ask", "i have a question", "question first", "tell me more",
                                   "what is this study", "what does it involve", "more about", "more information"))


def _with_city(trial: Trial) -> str:
    """The study's short title, with its city unless the title already ends with it."""
    city = str(trial.sites[0].city)
    title = str(trial.short_title)
    return title if city.lower() in title.lower() else f"{title} ({city})"


def _none_of_them(text: str) -> bool:
    norm = normalise(text)
    return norm in ("none", "none of them", "none of these", "neither", "no one", "nobody", "no thanks", "not now")


def _all_of_them(text: str) -> bool:
    return bool(re.search(r"(?<!\w)(all|all of them|all of these|every one|everyone|both|any of them|any of these)(?!\w)",
                          normalise(text)))


def _medicines(text: str) -> str:
    """Free text for the site only (never read by the rules): kept as typed, without control characters."""
    if _has_control(text):
        raise AnswerError(wording.NO_SPECIAL_CHARACTERS)
    value = " ".join(text.split())
    if not value or len(value) > 300:
        raise AnswerError("Please list the medicines in a few words, or type \"skip\".")
    return value


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


_SKIP_PHRASES = re.compile(r"\b(skip|pass|no thanks|prefer not|rather not|id rather (give|use)|dont have (one|an?|a phone|"
                           r"an email|email|a number)|do not have|no (email|phone|number|mobile)|none|nothing|not now|"
                           r"no medicines?|no medication|no drugs)\b|跳过|没有|不用|不想给")


def _skip(text: str) -> bool:
    """"skip", "I don't have one", "I'd rather give my email": this detail is not given."""
    return bool(_SKIP_PHRASES.search(normalise(text)))


# "my name is ...", "it's ...", "call me ...": the detail is what follows.
_LEAD_IN = re.compile(r"^\s*(my name is|my name's|name is|name:|i am|i'm|im|it's|its|this is|call me|you can call me|"
                      r"my (phone|mobile|cell|number|phone number|mobile number) is|my (email|e-mail|email address) is|"
                      r"number:|phone:|email:|it is|我叫|我是|我的名字是|名字是|我的(电话|手机|手机号|号码|邮箱)是|电话|手机|邮箱)\s*[:：]?\s*",
                      re.IGNORECASE)


def _detail(text: str) -> str:
    return _LEAD_IN.sub("", text.strip(), count=1).strip(" .。!！") or text.strip()


def _name(text: str) -> str:
    if _has_control(text):
        raise AnswerError(wording.NO_SPECIAL_CHARACTERS)
    name = " ".join(_detail(text).split())
    if not name or not _NAME_OK.match(name) or len(name) < 2:
        raise AnswerError("Please type just the name, for example \"Li Wei\".")
    return name


def _phone(text: str) -> str:
    if _has_control(text):
        raise AnswerError(wording.NO_SPECIAL_CHARACTERS)
    cleaned = re.sub(r"[\s().-]", "", _detail(text))  # "my number is 139 1234 5678" -> the number
    if not re.fullmatch(r"\+?\d{7,15}", cleaned):
        raise AnswerError("That doesn't look like a phone number. Please type it with digits, for example 138 0013 8000,"
                          " or type \"skip\".")
    return cleaned


def _email(text: str) -> str:
    if _has_control(text):
        raise AnswerError(wording.NO_SPECIAL_CHARACTERS)
    address = _detail(text)  # "my email is li@x.org" -> the address; anything else must be the address alone
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
