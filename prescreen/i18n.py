"""Two languages, one deployment: Babel message catalogs, read per conversation.

Texts in code are marked with `_("...")` and in templates with Jinja's i18n extension
(`{% trans %}`, `_()`). `scripts/update-translations` runs `pybabel extract` and
`pybabel update` for each part of the product (a gettext domain: screening, referral,
staff, page; the paths of each are listed in that script), so each part has its own
catalog, prescreen/locale/<lang>/LC_MESSAGES/<domain>.po. They are read here straight
from the .po files (no build step) and merged into one catalog per language;
tests/test_translations.py fails when a marked text has no translation. Texts that live
in the trial data have per-language fields instead (trials/*.yml, facts.yml).

The same English text reads the same in every catalog; one that must read differently in one
place is marked with a context, `_p("consent", "No")` (gettext's pgettext).

A text with values is marked whole and filled in after translation, so the translator
sees the sentence: `_("{count} studies").format(count=n)` in a function, never an
f-string inside `_()`; a module-level text keeps its placeholders and is formatted
where it is used (formatting translates it, so it must happen inside the turn).

One process serves patients in both languages, so the language is per conversation:
`using(language)` sets it for the current turn (a context variable), and `_()` returns
a lazy text that is translated when it is turned into a string, so module-level texts
follow the conversation that reads them.
"""
from __future__ import annotations

import gettext as _gettext
import io
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

LANGUAGES = ("en", "zh")
DEFAULT = "en"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_language: ContextVar[str] = ContextVar("language", default=DEFAULT)


def normal_language(value: str | None) -> str | None:
    """"zh", "zh-CN", "zh_Hans", "中文" -> "zh"; "en-GB" -> "en"; anything else -> None."""
    value = (value or "").strip().lower().replace("_", "-")
    if value.startswith("zh") or value in ("中文", "汉语", "普通话", "chinese", "mandarin"):
        return "zh"
    if value.startswith("en") or value in ("english", "英文", "英语"):
        return "en"
    return None


def current() -> str:
    return _language.get()


@contextmanager
def using(language: str | None):
    """Texts turned into strings inside this block are in `language` (English if unknown)."""
    token = _language.set(normal_language(language) or DEFAULT)
    try:
        yield
    finally:
        _language.reset(token)


@lru_cache(maxsize=None)
def translations(language: str) -> _gettext.NullTranslations:
    """The catalog for a language: every domain's .po file, read once and merged."""
    files = sorted((LOCALE_DIR / language / "LC_MESSAGES").glob("*.po"))
    if language == DEFAULT or not files:
        return _gettext.NullTranslations()
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    merged = Catalog(locale=language)
    for po in files:
        with po.open("rb") as handle:
            for message in read_po(handle, locale=language):
                # An untranslated or fuzzy entry falls back to English, as gettext does. The same text
                # in two catalogs must read the same (tests/test_translations.py); where it must not,
                # it is marked with a context (`_p`).
                if message.id and message.string and not message.fuzzy:
                    merged.add(message.id, message.string, context=message.context)
    buffer = io.BytesIO()
    write_mo(buffer, merged)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def gettext(message: str) -> str:
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return translations(current()).ngettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    return translations(current()).pgettext(context, message)


class LazyText(str):
    """A marked text that is translated whenever it is used as a string.

    It is a `str` (its own value is the English original, the catalog's key), so it can
    stand wherever a text is expected; formatting, concatenation, slicing, comparison and
    printing translate it into the conversation's language first. Two things read the
    English value instead: `str.join` (use `i18n.join`) and JSON encoding (use `plain`).
    """

    def __str__(self) -> str:
        return self.resolve(current())

    def resolve(self, language: str) -> str:
        """This text in `language`: from the message catalog."""
        context = getattr(self, "context", None)
        if context:
            return translations(language).pgettext(context, str.__str__(self))
        return translations(language).gettext(str.__str__(self))

    @property
    def original(self) -> str:
        return str.__str__(self)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def format(self, *args, **kwargs) -> str:  # noqa: A003 - the str method, translated first
        return str(self).format(*args, **kwargs)

    def __add__(self, other: str) -> str:
        return str(self) + str(other)

    def __radd__(self, other: str) -> str:
        return str(other) + str(self)

    def __mod__(self, values) -> str:
        return str(self) % values

    def __eq__(self, other) -> bool:
        return str(self) == (str(other) if isinstance(other, str) else other)

    def __hash__(self) -> int:
        return str.__hash__(self)

    def __contains__(self, part) -> bool:
        return str(part) in str(self)

    def __len__(self) -> int:
        return len(str(self))

    def __getitem__(self, key):
        return str(self)[key]

    def __iter__(self):
        return iter(str(self))

    def __mul__(self, count: int) -> str:
        return str(self) * count

    def __getattribute__(self, name):
        # Every other str method (lower, startswith, split, ...) works on the translated text.
        if name in _OWN or name.startswith("__"):
            return object.__getattribute__(self, name)
        return getattr(str(self), name)


_OWN = {"format", "resolve", "original", "versions", "context"}


class DataText(LazyText):
    """A text from the trial data with its versions per language (`question` and
    `question_zh` in a YAML file): it reads in the conversation's language."""

    def __new__(cls, english: str, versions: dict[str, str] | None = None):
        value = super().__new__(cls, english)
        value.versions = {"en": english, **(versions or {})}
        return value

    def resolve(self, language: str) -> str:
        return self.versions.get(language) or self.versions["en"]

    def __reduce__(self):
        return (DataText, (self.original, dict(self.versions)))


def _(message: str) -> LazyText:
    """Mark a text for translation; it is translated when used, in the conversation's language."""
    return LazyText(message)


def _p(context: str, message: str) -> LazyText:
    """`_()` for a text whose translation depends on where it is shown: `_p("consent", "No")` is
    不同意 on the consent buttons, while a plain `_("No")` answers a yes/no question (否)."""
    text = LazyText(message)
    text.context = context
    return text


def said(value: str | None) -> str | None:
    """A stored choice in the current language: a choice is stored as its English label
    ("Morning (9-12)", "Mandarin"), the catalog's key, and reads translated; words the patient
    typed have no catalog entry and are kept exactly as typed."""
    return gettext(value) if value else value


def join(separator: str, parts) -> str:
    """`separator.join(parts)` with lazy texts translated first (str.join reads a str subclass's own value)."""
    return str(separator).join(str(p) for p in parts)


def plain(value):
    """A value ready to send as JSON: every lazy text in it translated to a plain string."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def jinja_i18n(environment) -> None:
    """Jinja's i18n extension, reading the same catalogs, in the conversation's language."""
    environment.add_extension("jinja2.ext.i18n")
    environment.install_gettext_callables(gettext=gettext, ngettext=ngettext, newstyle=True)
