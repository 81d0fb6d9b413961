"""Trials as data: load `trials/*.yml`, check every field, refuse a broken file.

One YAML file per trial, plus `facts.yml` (the fact and question bank). A broken
file raises TrialDataError naming the file, the criterion and the field: screening
with a half-read trial could exclude patients wrongly, so we stop instead.

Every text a patient or a site team reads (short_title, plain_summary, age_note,
conditions, each criterion's plain, each site's name, short_name and city) has its
Chinese version in a field of the same name with "_zh"; they are read as
`i18n.DataText`, so they follow the conversation's language, and a missing or empty
Chinese version is refused like any other broken field. {you} / {your} in the Chinese
are said 您 / 您的, 您的孩子 / 您孩子的, 患者 / 患者的.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from prescreen.i18n import LANGUAGES, DataText
from prescreen.screening.errors import TrialDataError
from prescreen.screening.yamlfile import read_yaml
from prescreen.screening.factbank import (
    LANGUAGE_NAMES, OTHER_LANGUAGES, Fact, QuestionGroup, load_fact_bank, translation_problem)
from prescreen.screening.rules import All, AnyOf, Not, parse_rule

FACT_BANK_FILE = "facts.yml"
KINDS = ("inclusion", "exclusion")
STATUSES = ("recruiting", "not_yet_recruiting", "active_not_recruiting", "completed", "unknown")
SEXES = ("all", "female", "male")
SETTING = re.compile(r"^\$\{([A-Z][A-Z0-9_]*)\}$")
SITE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
# Patient-facing trial texts may name the person screened with {you} / {your}: the patient
# reads "your own white blood cells", a parent "your child's own white blood cells".
PERSON = {
    "self": {"you": "you", "your": "your"},
    "guardian": {"you": "your child", "your": "your child's"},
    "helper": {"you": "the patient", "your": "the patient's"},
}
# The same placeholders in the Chinese versions (`plain_summary_zh`): 您的 / 您孩子的 / 患者的.
PERSON_BY_LANGUAGE = {
    "en": PERSON,
    "zh": {
        "self": {"you": "您", "your": "您的"},
        "guardian": {"you": "您的孩子", "your": "您孩子的"},
        "helper": {"you": "患者", "your": "患者的"},
    },
}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
MAX_CALLBACK_DAYS = 30
MAX_SHORT_NAME_CHARACTERS = 12  # a Chinese short name ("浙大二院"): Chinese has no spaces to count words by

# Patient-facing texts: each has its version in every other language, in a field of the same
# name with "_zh" (read as i18n.DataText, so it follows the conversation's language).
TRIAL_TEXTS = ("short_title", "plain_summary", "age_note")
SITE_TEXTS = ("name", "short_name", "city")
CRITERION_TEXTS = ("plain",)


def _versions(fields) -> set[str]:
    return {f"{field}_{lang}" for field in fields for lang in OTHER_LANGUAGES}


def personal(text: str | None, respondent: str | None = "self") -> str | None:
    """A trial text with {you} / {your} said for who is answering (the patient by default).

    A DataText keeps its versions, each said in its own language ("your child's" / "您孩子的")."""
    if text is None:
        return None
    if isinstance(text, DataText):
        versions = {lang: _person(value, lang, respondent) for lang, value in text.versions.items()}
        return DataText(versions.pop("en"), versions)
    return _person(text, "en", respondent)


def _person(text: str, language: str, respondent: str | None) -> str:
    people = PERSON_BY_LANGUAGE.get(language, PERSON)
    words = people.get(respondent or "self", people["self"])
    return _PLACEHOLDER.sub(lambda m: words.get(m.group(1), m.group(0)), text)


def _text(raw: Mapping, field: str) -> DataText:
    """`field` and its versions (`field_zh`), spaces and line breaks folded."""
    return DataText(" ".join(raw[field].split()), {lang: " ".join(raw[f"{field}_{lang}"].split())
                                                   for lang in OTHER_LANGUAGES if raw.get(f"{field}_{lang}")})


def _translation_problem(raw: Mapping, fields) -> tuple[str, str] | None:
    """A missing, empty or English-less version of a patient-facing text, or one that names
    the person ({you}, {your}) differently from the English."""
    problem = translation_problem(raw, tuple(fields))
    if problem:
        return problem
    for field in fields:
        for lang in OTHER_LANGUAGES:
            value = raw.get(f"{field}_{lang}")
            if not isinstance(value, str):
                continue
            problem = _placeholder_problem(value)
            if problem:
                return f"{field}_{lang}", problem
            # A Chinese text that says 您的 where the English says {your} would tell a parent about
            # their own cells: the Chinese names the person wherever the English does.
            lacking = set(_PLACEHOLDER.findall(raw[field])) - set(_PLACEHOLDER.findall(value))
            if lacking:
                named = ", ".join(sorted(f"{{{n}}}" for n in lacking))
                return (f"{field}_{lang}", f"the {LANGUAGE_NAMES.get(lang, lang)} version must name the person "
                                          f"with {named} as the English does")
    return None


def _placeholder_problem(text: str) -> str | None:
    for name in _PLACEHOLDER.findall(text):
        if name not in PERSON["self"]:
            return f"unknown placeholder {{{name}}}: only {{you}} and {{your}}"
    if "{" in _PLACEHOLDER.sub("", text) or "}" in _PLACEHOLDER.sub("", text):
        return "unmatched { or }"
    return None

TRIAL_FIELDS = {
    "id", "title", "short_title", "plain_summary", "treatment", "conditions", "age", "sexes",
    "status", "phase", "sites", "source", "criteria_incomplete", "notes", "criteria", "information", "age_note",
    *_versions((*TRIAL_TEXTS, "conditions")),
}
CRITERION_FIELDS = {"id", "kind", "text", "rule", "verify", "applies_if", "plain", "group", "note",
                    *_versions(CRITERION_TEXTS)}
SITE_FIELDS = {"id", "name", "city", "contact", "short_name", "callback_days", "language", *_versions(SITE_TEXTS)}


@dataclass(frozen=True)
class Contact:
    role: str
    name: str | None = None
    phone: str | None = None  # a literal, or "${SETTING}" filled by the deployment
    email: str | None = None

    def resolved(self, env: Mapping[str, str] | None = None) -> dict[str, str | None]:
        """Contact with settings filled from the environment; None where still unset."""
        env = os.environ if env is None else env
        out = {}
        for key in ("role", "name", "phone", "email"):
            value = getattr(self, key)
            match = SETTING.match(value) if isinstance(value, str) else None
            out[key] = (env.get(match.group(1)) or None) if match else value
        return out


@dataclass(frozen=True)
class Site:
    id: str  # stable key: staff accounts and API tokens belong to sites by this id
    name: str
    city: str
    contact: Contact
    short_name: str | None = None  # what patients read on a result card ("Union Hospital", "协和医院")
    # "the team usually calls within N working days": a whole number, or a ${SETTING} the
    # deployment fills (the listings say nothing about it); None when unknown.
    callback_days: int | str | None = None
    # The language the site's team reads: its summaries and staff pages ("zh" or "en").
    language: str = "en"

    @property
    def label(self) -> str:
        """The short name patients read: "Union Hospital"."""
        return self.short_name or self.name

    def resolved_callback_days(self, env: Mapping[str, str] | None = None) -> int | None:
        """The working days within which the team usually calls, or None when not set (or not a
        whole number from 1 to 30: a wrong setting never reaches a patient)."""
        value = self.callback_days
        if isinstance(value, str):
            match = SETTING.match(value)
            value = ((os.environ if env is None else env).get(match.group(1)) or "").strip() if match else value
            value = int(value) if value.isdigit() else None
        return value if isinstance(value, int) and 1 <= value <= MAX_CALLBACK_DAYS else None

    def phone(self, env: Mapping[str, str] | None = None) -> str | None:
        """The site's phone from the listing (or the deployment's setting); None where there is none."""
        return self.contact.resolved(env)["phone"]


@dataclass(frozen=True)
class Criterion:
    id: str
    kind: str  # inclusion | exclusion
    text: str  # the seed's words, verbatim
    rule: Any = None  # rule node, or None when only the site can check it
    applies_if: Any = None  # rule node: e.g. only for patients with one disease
    plain: str | None = None  # the same idea in patient words
    group: str | None = None  # e.g. the disease a list in the seed belongs to
    note: str | None = None  # where the seed was ambiguous or lost text
    plain_template: str | None = None  # `plain` with its {you} / {your} placeholders

    def plain_for(self, respondent: str | None) -> str | None:
        """`plain` for who is answering: "... since your child took part in ..." for a parent."""
        return personal(self.plain_template or self.plain, respondent)

    @property
    def site_only(self) -> bool:
        return self.rule is None

    def facts(self) -> set[str]:
        found = self.rule.facts() if self.rule is not None else set()
        return found | (self.applies_if.facts() if self.applies_if is not None else set())

    def effective_rule(self):
        """The rule with its applicability folded in.

        An inclusion that does not apply is satisfied; an exclusion that does not
        apply cannot exclude. Kleene logic keeps "don't know if it applies" unknown.
        """
        if self.applies_if is None:
            return self.rule
        if self.kind == "inclusion":
            return AnyOf((Not(self.applies_if), self.rule))
        return All((self.applies_if, self.rule))


@dataclass(frozen=True)
class Trial:
    id: str
    title: str
    short_title: str
    plain_summary: str
    treatment: str
    conditions: tuple[str, ...]
    age_min: int | None
    age_max: int | None
    sexes: str
    status: str
    phase: str | None
    sites: tuple[Site, ...]
    source: str
    criteria_incomplete: bool
    notes: tuple[str, ...]
    information: tuple[str, ...]
    criteria: tuple[Criterion, ...]
    file: str
    age_note: str | None = None  # said to patients where the listing's age limits are missing or unusual
    summary_template: str | None = None  # plain_summary with its {you} / {your} placeholders

    def summary_for(self, respondent: str | None) -> str:
        """The plain summary for who is answering ("your child's own white blood cells")."""
        return personal(self.summary_template or self.plain_summary, respondent)

    def facts(self) -> set[str]:
        return set().union(*(c.facts() for c in self.criteria)) if self.criteria else set()


@dataclass(frozen=True)
class Catalog:
    """Everything screening needs: the fact bank and the trials, checked together."""

    facts: dict[str, Fact]
    groups: dict[str, QuestionGroup]
    trials: tuple[Trial, ...]

    def group_of(self, fact_id: str) -> QuestionGroup | None:
        return next((g for g in self.groups.values() if fact_id in g.facts), None)

    def trial(self, trial_id: str) -> Trial:
        for trial in self.trials:
            if trial.id == trial_id:
                return trial
        raise KeyError(trial_id)


def load_catalog(directory: Path | str) -> Catalog:
    """Load `facts.yml` and every other `*.yml` in `directory` (sorted, so order is stable)."""
    directory = Path(directory)
    facts, groups = load_fact_bank(directory / FACT_BANK_FILE)
    trials = []
    seen: dict[str, str] = {}
    site_names: dict[str, tuple[str, str]] = {}
    for path in sorted(directory.glob("*.yml")):
        if path.name == FACT_BANK_FILE:
            continue
        trial = load_trial(path, facts)
        if trial.id in seen:
            raise TrialDataError(path.name, trial.id, "id", f"duplicate trial id, also in {seen[trial.id]}")
        seen[trial.id] = path.name
        for index, site in enumerate(trial.sites):
            known = site_names.setdefault(site.id, (site.name, path.name))
            if known[0] != site.name:
                raise TrialDataError(path.name, trial.id, f"sites[{index}].id",
                                     f"'{site.id}' is already the id of {known[0]!r} in {known[1]}")
        trials.append(trial)
    if not trials:
        raise TrialDataError(str(directory), "-", "-", "no trial files found")
    return Catalog(facts=facts, groups=groups, trials=tuple(trials))


def load_trial(path: Path, facts: Mapping[str, Fact]) -> Trial:
    name = Path(path).name
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise TrialDataError(name, "-", "file", "a trial file must be a mapping")
    trial_id = raw.get("id")
    where = trial_id if isinstance(trial_id, str) and trial_id else "-"

    def fail(field: str, problem: str, item: str = where):
        raise TrialDataError(name, item, field, problem)

    unknown = set(raw) - TRIAL_FIELDS
    if unknown:
        fail(sorted(unknown)[0], "unknown field")
    for field in ("id", "title", "short_title", "plain_summary", "treatment", "source"):
        if not isinstance(raw.get(field), str) or not raw[field].strip():
            fail(field, "missing text")
    if raw.get("age_note") is not None and (not isinstance(raw["age_note"], str) or not raw["age_note"].strip()):
        fail("age_note", "must be a short text")
    for field in ("plain_summary", "age_note"):
        problem = _placeholder_problem(raw[field]) if isinstance(raw.get(field), str) else None
        if problem:
            fail(field, problem)
    if raw.get("status") not in STATUSES:
        fail("status", f"must be one of {', '.join(STATUSES)}")
    if raw.get("sexes") not in SEXES:
        fail("sexes", f"must be one of {', '.join(SEXES)}")
    conditions = raw.get("conditions")
    if not isinstance(conditions, list) or not conditions or not all(isinstance(c, str) for c in conditions):
        fail("conditions", "must be a non-empty list of condition names")
    age = raw.get("age") or {}
    if not isinstance(age, dict) or set(age) - {"min", "max"}:
        fail("age", "must be a mapping with min and/or max")
    for bound in ("min", "max"):
        if age.get(bound) is not None and (not isinstance(age[bound], int) or isinstance(age[bound], bool)):
            fail(f"age.{bound}", "must be a whole number of years")
    for list_field in ("notes", "information"):
        value = raw.get(list_field, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            fail(list_field, "must be a list of texts")
    if not isinstance(raw.get("criteria_incomplete", False), bool):
        fail("criteria_incomplete", "must be true or false")

    sites = tuple(_parse_site(s, i, fail) for i, s in enumerate(raw.get("sites") or []))
    if not sites:
        fail("sites", "at least one site is needed")

    criteria_raw = raw.get("criteria")
    if not isinstance(criteria_raw, list):
        fail("criteria", "must be a list (empty only with criteria_incomplete: true)")
    if not criteria_raw and not raw.get("criteria_incomplete"):
        fail("criteria", "no criteria: mark the trial criteria_incomplete: true if the listing gives none")
    criteria, ids = [], set()
    for index, item in enumerate(criteria_raw):
        criterion = _parse_criterion(item, index, facts, name)
        if criterion.id in ids:
            raise TrialDataError(name, criterion.id, "id", "duplicate criterion id")
        ids.add(criterion.id)
        criteria.append(criterion)

    # Last, so a file's other mistakes are named first: every patient-facing text in Chinese too.
    problem = _translation_problem(raw, TRIAL_TEXTS)
    if problem:
        fail(*problem)
    condition_names = _condition_versions(raw, conditions, fail)
    summary = _text(raw, "plain_summary")
    age_note = _text(raw, "age_note") if raw.get("age_note") else None
    return Trial(
        id=trial_id.strip(),
        title=raw["title"].strip(),
        short_title=_text(raw, "short_title"),
        plain_summary=personal(summary),
        treatment=raw["treatment"].strip(),
        conditions=condition_names,
        age_min=age.get("min"),
        age_max=age.get("max"),
        sexes=raw["sexes"],
        status=raw["status"],
        phase=raw.get("phase"),
        sites=sites,
        source=raw["source"].strip(),
        criteria_incomplete=bool(raw.get("criteria_incomplete", False)),
        notes=tuple(raw.get("notes", [])),
        information=tuple(raw.get("information", [])),
        criteria=tuple(criteria),
        file=name,
        age_note=personal(age_note),
        summary_template=summary,
    )


def _condition_versions(raw: Mapping, conditions: list[str], fail) -> tuple[DataText, ...]:
    """The conditions, each with its name in every other language (`conditions_zh`, in the same order)."""
    versions = {}
    for lang in OTHER_LANGUAGES:
        key, name = f"conditions_{lang}", LANGUAGE_NAMES.get(lang, lang)
        names = raw.get(key)
        if names is None:
            fail(key, f'missing {name} version of "conditions"')
        if (not isinstance(names, list) or len(names) != len(conditions)
                or not all(isinstance(n, str) and n.strip() for n in names)):
            fail(key, f"must list the {len(conditions)} conditions' {name} names, in the same order")
        versions[lang] = names
    return tuple(DataText(english.strip(), {lang: names[i].strip() for lang, names in versions.items()})
                 for i, english in enumerate(conditions))


def _parse_site(raw: Any, index: int, fail) -> Site:
    where = f"sites[{index}]"
    if not isinstance(raw, dict):
        fail(where, "must be a mapping")
    unknown = set(raw) - SITE_FIELDS
    if unknown:
        fail(f"{where}.{sorted(unknown)[0]}", "unknown field")
    if not isinstance(raw.get("id"), str) or not SITE_ID.match(raw["id"]):
        fail(f"{where}.id", "needs a short id of lower-case letters, digits and '-', e.g. wuhan-union")
    for field in ("name", "city"):
        if not isinstance(raw.get(field), str) or not raw[field].strip():
            fail(f"{where}.{field}", "missing text")
    short_name = raw.get("short_name")
    if short_name is not None and (not isinstance(short_name, str) or not short_name.strip()
                                   or len(short_name.split()) > 5):
        fail(f"{where}.short_name", "must be a short text of at most 5 words, e.g. Union Hospital")
    callback = raw.get("callback_days")
    if callback is not None and not (
            (isinstance(callback, int) and not isinstance(callback, bool) and 1 <= callback <= MAX_CALLBACK_DAYS)
            or (isinstance(callback, str) and SETTING.match(callback))):
        fail(f"{where}.callback_days", f"must be a whole number of working days (1 to {MAX_CALLBACK_DAYS}) "
                                       "or a setting like ${SITE_NAME_CALLBACK_DAYS}")
    language = raw.get("language", "en")
    if language not in LANGUAGES:
        fail(f"{where}.language", f"must be one of {', '.join(LANGUAGES)}: the language the site's team reads")
    contact = raw.get("contact")
    if not isinstance(contact, dict) or not contact.get("role"):
        fail(f"{where}.contact", "needs at least a role")
    unknown = set(contact) - {"role", "name", "phone", "email"}
    if unknown:
        fail(f"{where}.contact.{sorted(unknown)[0]}", "unknown field")
    for key in ("phone", "email"):
        value = contact.get(key)
        if isinstance(value, str) and "$" in value and not SETTING.match(value):
            fail(f"{where}.contact.{key}", "a setting must look like ${SITE_NAME_EMAIL}")
    if not contact.get("phone") and not contact.get("email"):
        fail(f"{where}.contact", "needs a phone or an email (a ${SETTING} where the listing gives none)")
    problem = _translation_problem(raw, SITE_TEXTS)
    if problem:
        fail(f"{where}.{problem[0]}", f"{problem[1]} (site {raw['id']})")
    for lang in OTHER_LANGUAGES:
        if len(raw.get(f"short_name_{lang}") or "") > MAX_SHORT_NAME_CHARACTERS:
            fail(f"{where}.short_name_{lang}", f"must be a short name of at most {MAX_SHORT_NAME_CHARACTERS} "
                                               "characters, e.g. 浙大二院")
    return Site(id=raw["id"], name=_text(raw, "name"), city=_text(raw, "city"), contact=Contact(**contact),
                short_name=_text(raw, "short_name") if short_name else None, callback_days=callback,
                language=language)


def _parse_criterion(raw: Any, index: int, facts: Mapping[str, Fact], name: str) -> Criterion:
    criterion_id = raw.get("id") if isinstance(raw, dict) else None
    where = criterion_id if isinstance(criterion_id, str) and criterion_id else f"criteria[{index}]"

    def fail(field: str, problem: str):
        raise TrialDataError(name, where, field, problem)

    if not isinstance(raw, dict):
        fail("-", "each criterion must be a mapping")
    if where.startswith("criteria["):
        fail("id", "missing")
    unknown = set(raw) - CRITERION_FIELDS
    if unknown:
        fail(sorted(unknown)[0], "unknown field")
    if raw.get("kind") not in KINDS:
        fail("kind", "must be inclusion or exclusion")
    if not isinstance(raw.get("text"), str) or not raw["text"].strip():
        fail("text", "missing: give the listing's words verbatim")
    has_rule, verify = "rule" in raw, raw.get("verify")
    if has_rule == (verify is not None):
        fail("rule", "give either a rule or 'verify: site', not both or neither")
    if verify is not None and verify != "site":
        fail("verify", "the only value is 'site'")

    def rule_at(field: str):
        try:
            return parse_rule(raw[field], facts, field)
        except ValueError as exc:
            message = str(exc)
            sub_field, _, problem = message.partition(": ")
            raise TrialDataError(name, where, sub_field or field, problem or message) from exc

    for text_field in ("plain", "group", "note"):
        if raw.get(text_field) is not None and not isinstance(raw[text_field], str):
            fail(text_field, "must be text")
    if raw.get("plain") is not None and _placeholder_problem(raw["plain"]):
        fail("plain", _placeholder_problem(raw["plain"]))
    rule = rule_at("rule") if has_rule else None
    applies_if = rule_at("applies_if") if "applies_if" in raw else None
    problem = _translation_problem(raw, CRITERION_TEXTS)  # after the rule: its mistakes matter more
    if problem:
        fail(*problem)
    plain = _text(raw, "plain") if raw.get("plain") is not None else None
    return Criterion(
        id=where,
        kind=raw["kind"],
        text=" ".join(raw["text"].split()),
        rule=rule,
        applies_if=applies_if,
        plain=personal(plain),
        plain_template=plain,
        group=raw.get("group"),
        note=raw.get("note"),
    )
