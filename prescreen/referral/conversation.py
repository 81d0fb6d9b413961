"""After the results: which study teams may contact the patient, consent per site, contact details.

One multi-select question lists every study that may fit ("Which study teams may
contact you?"); then each chosen site gets its own consent text, naming the site, what
is sent (with the sensitive topics of this patient's answers), why, how long it is kept,
who runs the tool and how to withdraw. Nothing identifying is asked before an explicit
"yes" to it. The state is plain JSON, kept by the assistant in one slot, like the screening's.
"""
from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass, field, fields

from prescreen import i18n
from prescreen.i18n import _, _p
from prescreen.screening import wording
from prescreen.screening.answers import AnswerError, check_length, normalise
from prescreen.screening.chinese import canonical, has_chinese
from prescreen.screening.commands import command_of, plain_command
from prescreen.screening.conversation import Message, Screening, button
from prescreen.screening.eligibility import MAY_FIT, evaluate_trial
from prescreen.screening.polarity import NO, NOT_SURE, YES, polarity
from prescreen.screening.trials import Catalog, Trial
from prescreen.referral.summary import Contact
from prescreen.staff.retention import handoff_retention_days

# The consent text is versioned per language: each consent record stores the language and
# the version the patient read. Bump a language's version whenever its text changes (the
# English msgids or the Chinese msgstrs of CONSENT_PARTS); tests/test_referral_chinese.py
# holds each version's fingerprint and fails until both are updated.
CONSENT_VERSIONS = {"en": "2", "zh": "1"}
TIMES = {"morning": _("Morning (9-12)"), "afternoon": _("Afternoon (12-6)"), "evening": _("Evening (6-8)"),
         "any": _("Any time")}
LANGUAGES = {"mandarin": _("Mandarin"), "cantonese": _("Cantonese"), "english": _("English")}
# Chinese words for the same choices. A time typed as just one of these words is that choice;
# anything more precise ("下午3点以后", "工作日晚上", "周末") is kept as typed, for the site.
TIMES_ZH = {"morning": ("上午", "早上", "早晨", "上午时间"), "afternoon": ("下午", "中午", "下午时间"),
            "evening": ("晚上", "傍晚", "晚上时间"),
            "any": ("随时", "任何时间", "都可以", "都行", "随时都可以", "随时都行", "什么时候都可以", "什么时候都行",
                    "什么时间都可以", "全天")}
LANGUAGES_ZH = {"mandarin": ("普通话", "中文", "汉语", "国语", "华语"), "cantonese": ("粤语", "广东话", "白话"),
                "english": ("英语", "英文")}
SKIP_WORDS = ("skip", "no email", "no phone", "none", "dont have", "do not have", "no thanks", "pass", "nothing",
              "no medicines", "no medicine", "prefer not")
AGREE_WORDS = ("i agree", "agree", "i consent", "yes i agree", "yes", "同意")
# A Chinese yes that polarity does not read as one ("好的", "可以", "没问题"), as the whole reply.
_YES_ZH = re.compile(r"^\s*(好|好的|好吧|可以|行|要|愿意|我愿意|同意|我同意|同意的|没问题|当然|当然可以|当然愿意|好的我同意|"
                     r"可以的|行的|要的)\s*[的吧啊呀啦了。！!～~]*\s*$")
OPERATOR_DEFAULT = _("the research team that runs this screening service for the study sites")
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5}

_EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}$")
_NAME_OK = re.compile(r"^[^\d<>{}\[\]@#$%^*=|\\/]{1,100}$")
_TIME_OK = re.compile(r"^[^<>{}\[\]@#$%^*=|\\]{1,100}$")


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
    consent_language: str = "en"  # the language of consent_text: stored with the consent record
    consent_version: str = CONSENT_VERSIONS["en"]  # that language's version


def start_referral(catalog: Catalog, screening: Screening, screening_id: str | None) -> Referral:
    values, order = screening.values(), list(catalog.facts)
    # "May be a match" and "may fit after a waiting period" both get an offer: the team plans screening.
    offers = [t.id for t in catalog.trials if evaluate_trial(t, values, order).verdict in MAY_FIT]
    sensitive = []
    for fact_id in values:
        topic = catalog.facts[fact_id].sensitive if fact_id in catalog.facts else None
        topic = getattr(topic, "original", topic)  # the English name is kept; the consent shows it in its language
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
    """Who runs this tool, as the consent text names it: a deployment setting
    (PRESCREEN_OPERATOR, and PRESCREEN_OPERATOR_ZH for Chinese conversations)."""
    if i18n.current() == "zh":
        named = os.environ.get("PRESCREEN_OPERATOR_ZH", "").strip()
        if named:
            return named
    return os.environ.get("PRESCREEN_OPERATOR", "").strip() or str(OPERATOR_DEFAULT)


# What is shared, with whom: one whole sentence for each case (a parent answering, sensitive topics named).
CONSENT_SHARING = {
    (False, False): _("Before I take any details, please read this. If you agree, I will send your answers from this "
                      "chat, and the contact details you give me, to the study team at {site} in {city}, for the study "
                      "\"{title}\"."),
    (True, False): _("Before I take any details, please read this. If you agree, I will send your answers from this "
                     "chat about your child, and the contact details you give me, to the study team at {site} in "
                     "{city}, for the study \"{title}\"."),
    (False, True): _("Before I take any details, please read this. If you agree, I will send your answers from this "
                     "chat, including what you said about {topics}, and the contact details you give me, to the study "
                     "team at {site} in {city}, for the study \"{title}\"."),
    (True, True): _("Before I take any details, please read this. If you agree, I will send your answers from this "
                    "chat about your child, including what you said about {topics}, and the contact details you give "
                    "me, to the study team at {site} in {city}, for the study \"{title}\"."),
}
CONSENT_USE = _("They will use them only to contact you about this study and to check if it may suit you. "
                "Nothing is sent to anyone else. "
                "We keep this for up to {days} days; the study team keeps it under their hospital's rules. "
                "This chat is run by {operator}. "
                "What has been sent stays with the study team unless you ask them to delete it. "
                "You can withdraw at any time by typing \"delete my data\": we erase what we hold and tell the study "
                "team.")
CONSENT_WHOLE = _("{sharing} {use}")
# Every text the consent is made of: a change to any of them, in a language, needs a new version.
CONSENT_PARTS = (*CONSENT_SHARING.values(), CONSENT_USE, CONSENT_WHOLE, OPERATOR_DEFAULT)


def consent_fingerprint(language: str) -> str:
    """A digest of the consent's texts in `language`: it changes exactly when that text does."""
    texts = "\n".join(part.resolve(language) for part in CONSENT_PARTS)
    return hashlib.sha256(texts.encode("utf-8")).hexdigest()[:16]


def consent_language() -> str:
    """The language the consent is shown in now, and so stored with it."""
    return i18n.current() if i18n.current() in CONSENT_VERSIONS else i18n.DEFAULT


def consent_version(language: str | None = None) -> str:
    return CONSENT_VERSIONS[language or consent_language()]


def consent_text(trial: Trial, guardian: bool, sensitive: list[str] = ()) -> str:
    """What the patient agrees to for one site, in the conversation's language.
    Versioned per language by CONSENT_VERSIONS (stored, not shown)."""
    site = trial.sites[0]
    days = int(handoff_retention_days(os.environ, site.id))
    sharing = CONSENT_SHARING[(bool(guardian), bool(sensitive))].format(
        site=str(site.name), city=str(site.city), title=str(trial.short_title),
        topics=wording.and_list(sensitive) if sensitive else "")
    return CONSENT_WHOLE.format(sharing=sharing, use=CONSENT_USE.format(days=days, operator=operator()))


# The questions of the contact steps, and their buttons' titles (the payloads never change).
DO_YOU_AGREE = _("{consent} Do you agree?")
YES_I_AGREE = _("Yes, I agree")
NO_BUTTON = _p("consent", "No")  # 不同意 on the consent buttons, not the yes/no questions' 否
SKIP = _("Skip")
ANOTHER_LANGUAGE = _("Another language")
ASK_NAME = _("What name should the study team ask for when they call?")
ASK_NAME_GUARDIAN = _("What is your name? The study team will ask for you, the parent or guardian.")
ASK_PHONE = _('What phone number can they call? Type "skip" to give an email address instead.')
ASK_EMAIL = _("What email address can they write to?")
ASK_EMAIL_OPTIONAL = _('What email address can they write to? Type "skip" if you don\'t want to give one.')
ASK_OTHER_LANGUAGE = _("Please type the language you would like them to use.")
ASK_TIME = _("When is the best time to contact you?")
ASK_LANGUAGE = _("Which language would you like them to use?")
WITH_CITY = _("{title} ({city})")
WITH_NOTE = _("{name} ({note})")
THANKS = _('Thank you. Your answers and contact details will be sent to the study team at {site}, {city}. They will '
           'contact you; only they can decide if you can join. To withdraw, type "delete my data" at any time.')
THANKS_REUSED = _('Thank you. I used the contact details you gave before. Your answers and contact details will be '
                  'sent to the study team at {site}, {city}. They will contact you; only they can decide if you can '
                  'join. To withdraw, type "delete my data" at any time.')
CLOSING_SENT = _("That's everything. Thank you, and take care.")
CLOSING_NOTHING_SENT = _("That's everything. Nothing has been sent to anyone. Thank you, and take care.")
# Hints when a detail is not understood
NEED_PHONE_OR_EMAIL = _("The study team needs a phone number or an email address. Please give one.")
BAD_MEDICINES = _('Please list the medicines in a few words, or type "skip".')
BAD_LANGUAGE = _('Please type the name of the language in a few letters, for example "French".')
BAD_NAME = _('Please type just the name, for example "Li Wei".')
BAD_PHONE = _('That doesn\'t look like a phone number. Please type it with digits, for example 138 0013 8000, or type '
              '"skip".')
BAD_CHINESE_PHONE = _("A mobile number in China has 11 digits, for example 138 0013 8000; a landline has its area code, "
                      'for example 0571-8765 4321. Please check it, or type "skip".')
BAD_EMAIL = _("That doesn't look like an email address. Please check it, for example name@example.com.")
BAD_CHOICE = _("Please choose one of the buttons, or type a few words.")


class ReferralConversation:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        # The sensitive topics by their English name (kept in the state) -> the text in every language.
        self._topics = {getattr(f.sensitive, "original", f.sensitive): f.sensitive
                        for f in catalog.facts.values() if f.sensitive}

    def topics(self, referral: Referral) -> list[str]:
        """The sensitive topics of these answers, in the conversation's language."""
        return [self._topics.get(topic, topic) for topic in referral.sensitive]

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
            return Message(DO_YOU_AGREE.format(consent=consent_text(trial, guardian, self.topics(referral))),
                           [button(str(YES_I_AGREE), "yes"), button(str(NO_BUTTON), "no")])
        if referral.step == "name":
            return Message(str(ASK_NAME_GUARDIAN if guardian else ASK_NAME))
        if referral.step == "phone":
            return Message(str(ASK_PHONE), [button(str(SKIP), "skip")])
        if referral.step == "email":
            if referral.contact.get("phone"):
                return Message(str(ASK_EMAIL_OPTIONAL), [button(str(SKIP), "skip")])
            return Message(str(ASK_EMAIL), [])
        if referral.step == "language_other":
            return Message(str(ASK_OTHER_LANGUAGE))
        if referral.step == "time":
            return Message(str(ASK_TIME), [button(str(label), f"choice:{k}") for k, label in TIMES.items()])
        if referral.step == "medicines":
            return Message(str(wording.MEDICINES_QUESTION_GUARDIAN if guardian else wording.MEDICINES_QUESTION),
                           [button(str(SKIP), "skip")])
        return Message(str(ASK_LANGUAGE), [button(str(label), f"choice:{k}") for k, label in LANGUAGES.items()]
                       + [button(str(ANOTHER_LANGUAGE), "other")])

    def _choose_question(self, referral: Referral, guardian: bool) -> Message:
        lines, buttons = [], []
        for number, trial_id in enumerate(referral.offers, 1):
            trial = self.catalog.trial(trial_id)
            tick = "✓ " if trial_id in referral.chosen else ""
            status = wording.status_note(trial)
            name = _with_city(trial)
            lines.append(f"{tick}{number}. {WITH_NOTE.format(name=name, note=status) if status else name}")
            buttons.append(button(f"{tick}{name}", f"choice:offer:{trial_id}"))
        buttons.append(button(str(wording.DONE_BUTTON), "choice:done") if referral.chosen else
                       button(str(wording.NONE_OF_THEM), "choice:none"))
        return Message(str(wording.choose_teams(guardian, len(referral.offers))) + "\n" + "\n".join(lines), buttons)

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
            if _reply(text) == YES:
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
        if _is_question(text) and not _EMAIL.match(text.strip()):  # a question is never the detail
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
                        raise AnswerError(str(NEED_PHONE_OR_EMAIL))
                    referral.contact["email"] = None
                else:
                    referral.contact["email"] = _email(text)
                referral.step = "time"
            elif step == "time":
                referral.contact["preferred_time"] = _pick(text, TIMES, free_text=True, chinese=TIMES_ZH, exact=True)
                referral.step = "language"
            elif step == "language" and (text == "other" or _asks_other_language(text)):
                referral.step = "language_other"
            elif step in ("language", "language_other"):
                referral.contact["language"] = _pick(text, LANGUAGES, free_text=True, chinese=LANGUAGES_ZH) \
                    if step == "language" else _free_text(text)
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
        reply = _reply(text)
        if text == "choice:none" or _none_of_them(text) or (not named and reply == NO):
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
        if intent in ("medical_question", "out_of_scope", "ask_why") or _is_question(text) or _asks_to_ask(text):
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
            words = set()
            for word in (trial.sites[0].city, trial.short_title, trial_id, *(s.name for s in trial.sites)):
                # A text from the trial data is named in any of its languages ("Hangzhou" or "杭州").
                words.update(getattr(word, "versions", {}).values() or [str(word)] if word else [])
            if number in numbers or any(_names(norm, w) for w in words if w):
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
        reply = _reply(text)
        if reply == YES or normalise(text) in [normalise(w) for w in AGREE_WORDS]:
            if referral.contact.get("name") and (referral.contact.get("phone") or referral.contact.get("email")):
                return self._complete(referral, trial, respondent, reused=True)
            referral.step = "name"
            return ReferralTurn([])
        if reply == NO:
            return self._next_consent(referral, [Message(wording.CONSENT_DECLINED)])
        if reply == NOT_SURE:
            return ReferralTurn([Message(wording.CONSENT_NOT_SURE)])
        if intent in ("medical_question", "out_of_scope", "ask_why") or _is_question(text) or _asks_to_ask(text):
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
        language = consent_language()
        handoff = Handoff(trial.id, contact, consent_text(trial, respondent == "guardian", self.topics(referral)),
                          language, consent_version(language))
        referral.consented.append(trial.id)
        site = trial.sites[0]
        thanks = Message((THANKS_REUSED if reused else THANKS).format(site=str(site.name), city=str(site.city)))
        turn = self._next_consent(referral, [thanks])
        turn.handoff = handoff
        return turn

    def closing(self, referral: Referral) -> Message:
        if referral.consented:
            return Message(str(CLOSING_SENT))
        return Message(str(CLOSING_NOTHING_SENT))


WHY_STEP = {
    "choose": _("If you choose a study team, I will first show you what would be shared and ask your permission. "
                "Nothing is sent before that."),
    "consent": _("The study team can only contact you if you agree. Nothing about you is shared without your yes."),
    "name": _("The study team needs a name and a phone number or email address to contact you about this study."),
}


def _reply(text: str) -> str | None:
    """YES, NO, NOT_SURE, MIXED or None, as polarity reads it; and a Chinese yes it does not read ("好的")."""
    return YES if _YES_ZH.match(text) else polarity(text)


def _is_question(text: str) -> bool:
    """"...?", "...？", or a Chinese question ending in 吗 ("可以以后再撤回吗")."""
    return "?" in text or "？" in text or bool(re.search(r"吗[。.!！]*\s*$", text))


def _names(norm: str, word: str) -> bool:
    """The word or name stands alone in the reply; Chinese, which has no spaces, anywhere in it."""
    word = normalise(word)
    if has_chinese(word):
        return word in norm
    return bool(word) and re.search(rf"(?<!\w){re.escape(word)}(?!\w)", norm) is not None


_ASKS_TO_ASK_ZH = ("我想问", "想问一下", "问一下", "我有个问题", "我有问题", "有个问题", "先问", "介绍一下", "多了解",
                   "了解一下", "详细说说", "说说看", "更多信息", "是什么研究", "具体是什么", "怎么做")


def _asks_to_ask(text: str) -> bool:
    norm = normalise(text)
    return any(p in norm for p in ("can i ask", "may i ask", "i have a question", "question first", "tell me more",
                                   "what is this study", "what does it involve", "more about", "more information")) \
        or any(p in norm for p in _ASKS_TO_ASK_ZH)


def _with_city(trial: Trial) -> str:
    """The study's short title, with its city unless the title already ends with it."""
    city = str(trial.sites[0].city)
    title = str(trial.short_title)
    return title if city.lower() in title.lower() else WITH_CITY.format(title=title, city=city)


_NONE_ZH = re.compile(r"^\s*(都不要|都不用|都不|一个都不要|一个也不要|一个都不|一个也不|都不需要|不用了|不要了|暂时不要|暂时不用|"
                      r"先不要|先不用|算了|不用|不要|不需要|都没兴趣|没兴趣)\s*[了吧啊呀，,。！!谢谢]*\s*$")


def _none_of_them(text: str) -> bool:
    norm = normalise(text)
    return norm in ("none", "none of them", "none of these", "neither", "no one", "nobody", "no thanks", "not now") \
        or bool(_NONE_ZH.match(text))


_ALL_ZH = re.compile(r"全部|都要|都想|都可以|都行|所有|每一个|每个都|两个都|都选|都联系|全选")


def _all_of_them(text: str) -> bool:
    return bool(re.search(r"(?<!\w)(all|all of them|all of these|every one|everyone|both|any of them|any of these)(?!\w)",
                          normalise(text))) or (bool(_ALL_ZH.search(text)) and not re.search(r"都不", text))


def _medicines(text: str) -> str:
    """Free text for the site only (never read by the rules): kept as typed, without control characters."""
    if _has_control(text):
        raise AnswerError(wording.NO_SPECIAL_CHARACTERS)
    value = " ".join(text.split())
    if not value or len(value) > 300:
        raise AnswerError(str(BAD_MEDICINES))
    return value


def _asks_other_language(text: str) -> bool:
    return normalise(text) in ("other", "another language", "another", "a different language", "something else",
                               "其他", "其他语言", "其它", "其它语言", "别的", "别的语言", "另一种语言", "其他的")


def _has_control(text: str) -> bool:
    """Control and invisible format characters (Unicode Cc/Cf): they spoof names on staff pages and in CSV."""
    return any(unicodedata.category(c) in ("Cc", "Cf") for c in text)


def _free_text(text: str) -> str:
    value = " ".join(text.split())
    if _has_control(text) or not _NAME_OK.match(value) or len(value) > 60:
        raise AnswerError(str(BAD_LANGUAGE))
    return value


_SKIP_PHRASES = re.compile(r"\b(skip|pass|no thanks|prefer not|rather not|id rather (give|use)|dont have (one|an?|a phone|"
                           r"an email|email|a number)|do not have|no (email|phone|number|mobile)|none|nothing|not now|"
                           r"no medicines?|no medication|no drugs)\b|跳过|没有|不用|不想给|暂无|不需要|不方便给|不想留|^无$")


def _skip(text: str) -> bool:
    """"skip", "I don't have one", "I'd rather give my email": this detail is not given."""
    return bool(_SKIP_PHRASES.search(normalise(text)))


# "my name is ...", "it's ...", "call me ...": the detail is what follows.
_LEAD_IN = re.compile(r"^\s*(my name is|my name's|name is|name:|i am|i'm|im|it's|its|this is|call me|you can call me|"
                      r"my (phone|mobile|cell|number|phone number|mobile number) is|my (email|e-mail|email address) is|"
                      r"number:|phone:|email:|it is|我叫|我是|我的名字是|我的名字叫|名字是|姓名是|姓名|名字|叫我|"
                      r"我的(电话号码|电话|手机号码|手机号|手机|号码|邮箱地址|电子邮箱|邮箱)是|"
                      r"(电话号码|手机号码|手机号|电话|手机|号码|邮箱地址|电子邮箱|邮箱)(是)?)\s*[:：]?\s*",
                      re.IGNORECASE)


def _detail(text: str) -> str:
    return _LEAD_IN.sub("", text.strip(), count=1).strip(" .。!！，、；") or text.strip()


def _name(text: str) -> str:
    if _has_control(text):
        raise AnswerError(wording.NO_SPECIAL_CHARACTERS)
    name = " ".join(_detail(text).split())
    if not name or not _NAME_OK.match(name) or len(name) < 2:
        raise AnswerError(str(BAD_NAME))
    return name


_CHINA_PREFIX = re.compile(r"^(\+86|0086|86)(?=1[3-9]\d{9}$|[2-9]\d{8,10}$)")
_CHINA_MOBILE = re.compile(r"1[3-9]\d{9}")
_CHINA_LANDLINE = re.compile(r"0[1-9]\d{8,10}")  # 0 + area code (2-3 digits) + 7-8 digits


def _phone(text: str) -> str:
    """Digits and a leading "+" only ("+86 138 0013 8000" -> "+8613800138000"). In a Chinese
    conversation a number without another country's code is a Chinese one: a mobile of 11
    digits, or a landline with its area code ("0571-87654321"); "86 138..." is "+86138..."."""
    if _has_control(text):
        raise AnswerError(wording.NO_SPECIAL_CHARACTERS)
    typed = unicodedata.normalize("NFKC", _detail(text))  # full-width digits and signs from a Chinese keyboard
    cleaned = re.sub(r"[\s().\-—–]", "", typed)  # "my number is 139 1234 5678" -> the number
    if not re.fullmatch(r"\+?\d{7,15}", cleaned) or not cleaned.lstrip("+").isascii():
        raise AnswerError(str(BAD_PHONE))
    if i18n.current() == "zh" and (not cleaned.startswith("+") or cleaned.startswith("+86")):
        prefix = _CHINA_PREFIX.match(cleaned)
        national = cleaned[prefix.end():] if prefix else cleaned
        if prefix:  # +86 571 8765 4321: the area code loses its 0 after the country code
            if not (_CHINA_MOBILE.fullmatch(national) or _CHINA_LANDLINE.fullmatch("0" + national)):
                raise AnswerError(str(BAD_CHINESE_PHONE))
            return "+86" + national
        if not (_CHINA_MOBILE.fullmatch(national) or _CHINA_LANDLINE.fullmatch(national)):
            raise AnswerError(str(BAD_CHINESE_PHONE))
    return cleaned


def _email(text: str) -> str:
    if _has_control(text):
        raise AnswerError(wording.NO_SPECIAL_CHARACTERS)
    address = _detail(text)  # "my email is li@x.org" -> the address; anything else must be the address alone
    if not _EMAIL.match(address) and not address.isascii():  # "li＠example．org" from a Chinese keyboard
        address = unicodedata.normalize("NFKC", address).replace("。", ".")
    if not _EMAIL.match(address):
        raise AnswerError(str(BAD_EMAIL))
    return address


def _bare_zh(text: str) -> str:
    """"上午吧", "最好是上午。" -> "上午": the words of a short Chinese reply without its particles."""
    bare = re.sub(r"[，,。！!～~\s]+", "", text)
    bare = re.sub(r"(比较好|比较方便|最好|最方便|就行|就好|方便|吧|啊|呀|的)+$", "", bare)
    return re.sub(r"^(最好是|最好|一般是|一般|我)", "", bare)


def _pick(text: str, options: dict[str, str], free_text: bool, chinese: dict[str, tuple[str, ...]] | None = None,
          exact: bool = False) -> str:
    """A tapped or typed choice, stored as its English label ("Morning (9-12)": the summary shows it in the
    site's language, `i18n.said`);
    with `free_text`, other words are kept as typed. Chinese words name a choice when one choice is named
    (`exact`: when the reply is only that word: "下午3点以后" is kept as typed, it says more)."""
    if text.startswith("choice:") and text[7:] in options:
        return options[text[7:]].original
    norm = normalise(text)
    for key, label in options.items():
        if key in norm or normalise(label) == norm:
            return label.original
    if chinese and has_chinese(text):
        bare = _bare_zh(text)
        named = [key for key, words in chinese.items() if any(bare == word or (not exact and word in bare)
                                                              for word in words)]
        if len(named) == 1:
            return options[named[0]].original
    allowed = _TIME_OK if exact else _NAME_OK  # a time may have digits: "after 3pm", "下午3点以后"
    if free_text and not _has_control(text) and allowed.match(text.strip()) and len(text.strip()) <= 60:
        return " ".join(text.split())
    raise AnswerError(str(BAD_CHOICE))
