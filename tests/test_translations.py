"""Every marked text has its Chinese translation, with the same placeholders.

The texts are extracted from the sources here (as `pybabel extract` does, with babel.cfg),
so a text marked but never run through scripts/update-translations fails too.
"""
from __future__ import annotations

import re
from configparser import ConfigParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po

from prescreen import i18n

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{[a-z_]*\}|%\([a-z_]+\)s")


def domains() -> dict[str, list[str]]:
    listed = {}
    for line in (ROOT / "prescreen/locale/domains.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, paths = line.split(":", 1)
            listed[name.strip()] = paths.split()
    return listed


def method_map():
    config = ConfigParser()
    config.read(ROOT / "babel.cfg")
    methods, options = [], {}
    for section in config.sections():
        method, pattern = (part.strip() for part in section.split(":", 1))
        methods.append((pattern, method))
        options[pattern] = dict(config.items(section))
    return methods, options


KEYWORDS = {"_": None, "_p": ((1, "c"), 2)}  # as scripts/update-translations: -k _ -k _p:1c,2


def marked_texts(paths: list[str]) -> set[tuple[str, str | None]]:
    """(text, context) of every marked text in these files."""
    methods, options = method_map()
    found = set()
    for path in paths:
        full = ROOT / path
        if full.is_dir():
            found.update((m[2], m[4]) for m in extract_from_dir(full, methods, options, keywords=KEYWORDS))
        else:
            method = "jinja2" if path.endswith(".j2") else "python"
            opts = options.get("**.j2", {}) if method == "jinja2" else {}
            found.update((m[1], m[3]) for m in extract_from_file(method, full, keywords=KEYWORDS, options=opts))
    return {(text if isinstance(text, str) else text[0], context) for text, context in found if text}


@pytest.mark.parametrize("domain", sorted(domains()))
def test_every_marked_text_has_a_chinese_translation(domain):
    po = ROOT / "prescreen/locale/zh/LC_MESSAGES" / f"{domain}.po"
    assert po.exists(), f"{po.relative_to(ROOT)} is missing: run scripts/update-translations"
    with po.open("rb") as handle:
        catalog = read_po(handle, locale="zh")
    problems = []
    for text, context in sorted(marked_texts(domains()[domain]), key=lambda t: (t[0], t[1] or "")):
        message = catalog.get(text, context=context)
        if message is None:
            problems.append(f"not in the catalog (run scripts/update-translations): {text!r}")
        elif not message.string or message.fuzzy:
            problems.append(f"not translated: {text!r}")
        elif sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(message.string)):
            problems.append(f"placeholders differ: {text!r} -> {message.string!r}")
    assert not problems, f"{po.relative_to(ROOT)}:\n" + "\n".join(problems)


def test_a_text_in_two_catalogs_reads_the_same_in_both():
    """The catalogs are merged at run time, so a text translated two ways would read one of them
    everywhere; a text that must differ by place is marked with a context (`_p`)."""
    seen: dict[tuple[str, str | None], tuple[str, str]] = {}
    clashes = []
    for po in sorted((ROOT / "prescreen/locale/zh/LC_MESSAGES").glob("*.po")):
        with po.open("rb") as handle:
            for message in read_po(handle, locale="zh"):
                if not message.id or not message.string:
                    continue
                key = (message.id, message.context)
                if key in seen and seen[key][1] != message.string:
                    clashes.append(f"{message.id!r}: {seen[key][0]} says {seen[key][1]!r}, {po.name} says {message.string!r}")
                seen.setdefault(key, (po.name, message.string))
    assert not clashes, "\n".join(clashes)


def test_a_text_with_a_context_reads_its_own_translation(tmp_path, monkeypatch):
    po = tmp_path / "zh" / "LC_MESSAGES" / "demo.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
                  'msgid "No"\nmsgstr "否"\n\nmsgctxt "consent"\nmsgid "No"\nmsgstr "不同意"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        with i18n.using("zh"):
            assert (str(i18n._("No")), str(i18n._p("consent", "No"))) == ("否", "不同意")
        with i18n.using("en"):
            assert str(i18n._p("consent", "No")) == "No"
    finally:
        i18n.translations.cache_clear()


def test_a_marked_text_reads_in_the_conversations_language():
    with i18n.using("zh"):
        catalog = i18n.translations("zh")
    # Any translated entry will do: the lazy text follows the language it is read in.
    with (ROOT / "prescreen/locale/zh/LC_MESSAGES/screening.po").open("rb") as handle:
        entries = [m for m in read_po(handle, locale="zh") if m.id and m.string]
    if not entries:
        pytest.fail("the screening catalog has no translations yet")
    text = i18n._(entries[0].id)
    with i18n.using("zh"):
        assert str(text) == entries[0].string == catalog.gettext(entries[0].id)
    with i18n.using("en"):
        assert str(text) == entries[0].id
