"""Shared fixtures: the real trial catalog from `trials/`, loaded once."""
from pathlib import Path

import pytest

from prescreen.screening.planner import Planner
from prescreen.screening.trials import load_catalog

ROOT = Path(__file__).resolve().parent.parent
TRIALS_DIR = ROOT / "trials"
TRIAL_FILES = sorted(p for p in TRIALS_DIR.glob("*.yml") if p.name != "facts.yml")


@pytest.fixture(autouse=True, scope="session")
def test_database(tmp_path_factory):
    """Actions write to a throw-away database and outbox, never to the project's var/."""
    import os

    folder = tmp_path_factory.mktemp("data")
    os.environ["PRESCREEN_DB_URL"] = f"sqlite:///{folder / 'prescreen.db'}"
    os.environ["PRESCREEN_OUTBOX_DIR"] = str(folder / "outbox")
    return folder


@pytest.fixture(scope="session")
def catalog():
    return load_catalog(TRIALS_DIR)


@pytest.fixture(scope="session")
def planner(catalog):
    return Planner(catalog)


@pytest.fixture(scope="module")
def adult(planner):
    """A finished screening of an adult who may fit every study (each test module gets its own)."""
    from prescreen.screening.conversation import RESPONDENT, Conversation, Screening
    from test_conversation import answer_everything

    return answer_everything(Conversation(planner), Screening(), {
        RESPONDENT: "me", "condition": "lupus", "refractory": "yes", "age": "34",
        "diagnosis_when": "more than 2 years ago", "sex": "female"})


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for this test run, or a skip that says why there is none."""
    from postgres import PostgresServer, PostgresUnavailable

    try:
        server = PostgresServer()
    except PostgresUnavailable as reason:
        pytest.skip(f"no PostgreSQL server here: {reason}")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    """The real action server and Rasa server on free loopback ports, for one test module."""
    from servers import Assistant

    servers = Assistant(tmp_path_factory.mktemp("assistant"))
    try:
        servers.start_actions()
        servers.start_rasa()
        yield servers
    finally:
        servers.stop()
