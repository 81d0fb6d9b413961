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


def marked_texts(paths: list[str]) -> set[str]:
    methods, options = method_map()
    found = set()
    for path in paths:
        full = ROOT / path
        if full.is_dir():
            messages = extract_from_dir(full, methods, options, keywords={"_": None})
            found.update(m[2] for m in messages)
        else:
            method = "jinja2" if path.endswith(".j2") else "python"
            opts = options.get("**.j2", {}) if method == "jinja2" else {}
            found.update(m[1] for m in extract_from_file(method, full, keywords={"_": None}, options=opts))
    return {text if isinstance(text, str) else text[0] for text in found if text}


@pytest.mark.parametrize("domain", sorted(domains()))
def test_every_marked_text_has_a_chinese_translation(domain):
    po = ROOT / "prescreen/locale/zh/LC_MESSAGES" / f"{domain}.po"
    assert po.exists(), f"{po.relative_to(ROOT)} is missing: run scripts/update-translations"
    with po.open("rb") as handle:
        catalog = read_po(handle, locale="zh")
    problems = []
    for text in sorted(marked_texts(domains()[domain])):
        message = catalog.get(text)
        if message is None:
            problems.append(f"not in the catalog (run scripts/update-translations): {text!r}")
        elif not message.string or message.fuzzy:
            problems.append(f"not translated: {text!r}")
        elif sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(message.string)):
            problems.append(f"placeholders differ: {text!r} -> {message.string!r}")
    assert not problems, f"{po.relative_to(ROOT)}:\n" + "\n".join(problems)


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
