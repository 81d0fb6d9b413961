"""Command intents count only with their words: in the core and in the NLU pipeline."""
import pytest
import yaml
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from prescreen.screening.commands import COMMAND_WORDS, says_command
from rasa_addons.command_guard import CommandWordsGuard
from conftest import ROOT


def nlu_examples(intent: str) -> list[str]:
    data = yaml.safe_load((ROOT / "data" / "nlu.yml").read_text())
    [block] = [b for b in data["nlu"] if b.get("intent") == intent]
    return [line[2:].strip() for line in block["examples"].splitlines() if line.strip()]


@pytest.mark.parametrize("intent", sorted(COMMAND_WORDS))
def test_every_training_example_of_a_command_has_its_words(intent):
    missing = [e for e in nlu_examples(intent) if not says_command(intent, e)]
    assert missing == []


@pytest.mark.parametrize("intent, text", [
    ("stop", "abc"), ("stop", "I stopped rituximab last year"), ("stop", "Li Wei"),
    ("withdraw", "li@example.org"), ("withdraw", "no"), ("go_back", "34"), ("start_over", "lupus"),
])
def test_answers_are_not_commands(intent, text):
    assert not says_command(intent, text)


def test_other_intents_need_no_words():
    assert says_command("inform", "abc") and says_command(None, "")


def message(text, ranking):
    msg = Message(data={TEXT: text})
    msg.set(INTENT, dict(ranking[0]))
    msg.set(INTENT_RANKING_KEY, ranking)
    return msg


def test_guard_replaces_a_command_without_its_words_by_the_next_intent():
    ranking = [{"name": "withdraw", "confidence": 0.6}, {"name": "stop", "confidence": 0.3},
               {"name": "inform", "confidence": 0.1}]
    [out] = CommandWordsGuard().process([message("Li Wei", ranking)])
    assert out.get(INTENT) == {"name": "inform", "confidence": 0.1}
    assert [r["name"] for r in out.get(INTENT_RANKING_KEY)] == ["inform"]


def test_guard_keeps_real_commands_and_button_payloads():
    for text in ("please delete my data", "/withdraw"):
        [out] = CommandWordsGuard().process([message(text, [{"name": "withdraw", "confidence": 0.9}])])
        assert out.get(INTENT)["name"] == "withdraw"
