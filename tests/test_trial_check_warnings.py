"""The trial check warns (and still passes) when a yes/no question covers a different
time span than its criterion: "ever" or "in the past 2 months" for "within 8 weeks"."""
import shutil
import subprocess
import sys

import pytest
import yaml

from prescreen.screening.check import EVER, NOW, span_of, span_warnings
from prescreen.screening.trials import load_catalog

from conftest import ROOT, TRIALS_DIR


@pytest.fixture
def trials_copy(tmp_path):
    for path in TRIALS_DIR.glob("*.yml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def set_question(folder, fact_id, text):
    path = folder / "facts.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fact = next(f for f in data["facts"] if f["id"] == fact_id)
    fact["question"] = text
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize("text, span", [
    ("Have you ever had cancer?", EVER),
    ("In the past 2 months, have you had a stroke?", 60),
    ("In the past 8 weeks, have you had a stroke?", 56),
    ("In the past year, have you had a live vaccine?", 365),
    ("Received live vaccine within 4 weeks before screening;", 28),
    ("CNS neurolupus requires intervention within 60days);", 60),
    ("Active or latent tuberculosis at screening;", NOW),
    ("Do you have an infection right now?", NOW),
    ("Do you need to take a blood thinner every day?", None),
])
def test_time_spans_read_from_words(text, span):
    assert span_of(text) == span


def test_the_trials_as_they_are_give_no_warning(catalog):
    assert span_warnings(catalog) == []


def test_a_question_wider_in_time_than_its_criterion_is_named(trials_copy):
    # The old wording of the brain question: 2 months against the criterion's 8 weeks.
    set_question(trials_copy, "brain_condition", "In the past 2 months, have you had a stroke or seizures?")
    warnings = span_warnings(load_catalog(trials_copy))
    assert [(w.file, w.criterion, w.fact) for w in warnings] == \
        [("cd19-bcma-car-t-sle-wuhan.yml", "exc-cns", "brain_condition")]
    assert "60 days" in str(warnings[0]) and "56 days" in str(warnings[0])


def test_ever_against_within_is_named(trials_copy):
    set_question(trials_copy, "suicidal_thoughts", "Have you ever had thoughts of ending your life?")
    warnings = span_warnings(load_catalog(trials_copy))
    assert [(w.criterion, w.question_span, w.criterion_span) for w in warnings] == [("exc-suicide", EVER, 365)]


def test_now_against_at_screening_is_fine_but_ever_is_not(trials_copy):
    set_question(trials_copy, "tuberculosis", "Have you ever had tuberculosis (TB)?")
    warned = {(w.file, w.criterion) for w in span_warnings(load_catalog(trials_copy))}
    assert ("cd19-bcma-car-t-sle-wuhan.yml", "exc-tuberculosis") in warned


def test_a_follow_up_decides_the_time_so_the_question_must_reach_back_that_far(trials_copy):
    # The "when?" follow-up decides within 12 months; a question about the past 6 months misses some.
    set_question(trials_copy, "heart_stent", "In the past 6 months, have you had a heart stent?")
    warned = {(w.criterion, w.fact) for w in span_warnings(load_catalog(trials_copy))}
    assert warned == {("exc-heart", "heart_stent")}


def test_the_check_command_warns_and_still_passes(trials_copy):
    set_question(trials_copy, "brain_condition", "Have you ever had a stroke or seizures?")
    run = subprocess.run([sys.executable, "-m", "prescreen.screening.check", str(trials_copy)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "warn  cd19-bcma-car-t-sle-wuhan.yml: exc-cns: the question for 'brain_condition' covers ever" in run.stderr
