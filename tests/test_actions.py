"""Actions, driven with rasa_sdk's own Tracker and CollectingDispatcher."""
import asyncio
import subprocess
import sys

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.welcome import ActionWelcome

from conftest import ROOT


def tracker(text="hello", intent="greet"):
    return Tracker(
        sender_id="test",
        slots={},
        latest_message={"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": []},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def test_welcome_says_what_it_does_and_promises_nothing():
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionWelcome().run(dispatcher, tracker(), {}))
    assert events == []
    [message] = dispatcher.messages
    text = message["text"]
    assert "5 research studies" in text
    assert "not medical advice" in text
    assert "don't need to give your name" in text
    assert '"stop"' in text
    assert "eligible" not in text.lower()
    for city in ("Hangzhou", "Nanjing", "Wuhan", "Wenzhou"):
        assert city in text


def test_action_package_does_not_import_rasa():
    """The action server must stay light: importing rasa would pull in TensorFlow."""
    code = "import sys, actions.welcome, actions.catalog; sys.exit(1 if 'rasa' in sys.modules else 0)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, "the actions package imported rasa"


def test_action_server_refuses_to_start_on_a_broken_trial_file(tmp_path):
    import shutil

    shutil.copy(ROOT / "trials" / "facts.yml", tmp_path / "facts.yml")
    trial = (ROOT / "trials" / "nct06421701-car-nk-sle-hangzhou.yml").read_text(encoding="utf-8")
    (tmp_path / "broken.yml").write_text(trial.replace("{fact: transplant,", "{fact: transplnt,"), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", "import actions.catalog"],
        cwd=ROOT, capture_output=True, text=True, env={"PRESCREEN_TRIALS_DIR": str(tmp_path), "PATH": ""},
    )
    assert result.returncode != 0
    assert "broken.yml: exc-transplant: rule.fact: unknown fact 'transplnt'" in result.stderr
