"""Headless Chromium from Debian's package, driven by Playwright (which downloads no browser).

Screenshots go to test-artifacts/ at the project's top level.
"""
from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

from servers import ROOT

ARTIFACTS = ROOT / "test-artifacts"
# Without the background-networking flags Chromium keeps calling home, which this
# network refuses; none of it is needed for a page on loopback.
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("Debian's chromium is not installed (scripts/install-system-packages installs it as root)")
    return found


@contextmanager
def browser_page(width: int = 1280, height: int = 900):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=FLAGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            page.set_default_timeout(20_000)
            yield page
        finally:
            browser.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


AXE = ROOT / "tests" / "vendor" / "axe-4.10.2.min.js"


def axe_violations(page, name: str, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core on the page as it is now; save the full result in test-artifacts/axe-<name>.json and
    return the violations of the given impacts (id, impact, help, and where)."""
    import json

    if not AXE.exists():
        raise RuntimeError(f"{AXE} is missing: run scripts/fetch-axe (make test does)")
    # Evaluated by the browser's debugging protocol, not as an inline <script>: the pages' own
    # Content-Security-Policy (script-src 'self') forbids those, and must stay as patients get it.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "where": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in impacts]
