"""Shared fixtures: the real trial catalog from `trials/`, loaded once."""
from pathlib import Path

import pytest

from prescreen.planner import Planner
from prescreen.trials import load_catalog

ROOT = Path(__file__).resolve().parent.parent
TRIALS_DIR = ROOT / "trials"
TRIAL_FILES = sorted(p for p in TRIALS_DIR.glob("*.yml") if p.name != "facts.yml")


@pytest.fixture(scope="session")
def catalog():
    return load_catalog(TRIALS_DIR)


@pytest.fixture(scope="session")
def planner(catalog):
    return Planner(catalog)
