"""Broken trial and fact files stop loading with an error naming file, item and field."""
import shutil
import subprocess
import sys

import pytest
import yaml

from prescreen.screening.errors import TrialDataError
from prescreen.screening.trials import load_catalog

from conftest import ROOT, TRIALS_DIR

GOOD_TRIAL = "nct06421701-car-nk-sle-hangzhou.yml"


@pytest.fixture
def trials_copy(tmp_path):
    """A writable copy of the fact bank and one good trial."""
    shutil.copy(TRIALS_DIR / "facts.yml", tmp_path / "facts.yml")
    shutil.copy(TRIALS_DIR / GOOD_TRIAL, tmp_path / GOOD_TRIAL)
    return tmp_path


def edit(path, change):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def criterion(data, criterion_id):
    return next(c for c in data["criteria"] if c["id"] == criterion_id)


TRIAL_BREAKAGES = [
    ("unknown fact", "inc-age", "rule.all[0].fact", "unknown fact 'agee'",
     lambda d: criterion(d, "inc-age")["rule"]["all"][0].update(fact="agee")),
    ("unknown operator", "inc-age", "rule.all[0].op", "operator 'atleast'",
     lambda d: criterion(d, "inc-age")["rule"]["all"][0].update(op="atleast")),
    ("value of the wrong type", "inc-age", "rule.all[1].value", "is a number",
     lambda d: criterion(d, "inc-age")["rule"]["all"][1].update(value="sixty-five")),
    ("yes/no compared with text", "exc-transplant", "rule.value", "true or false",
     lambda d: criterion(d, "exc-transplant")["rule"].update(value="yes")),
    ("option that does not exist", "inc-sle", "rule.all[0].value", "not an option",
     lambda d: criterion(d, "inc-sle")["rule"]["all"][0].update(value="lupus")),
    ("bad duration", "exc-live-vaccine", "rule.all[1].value", "not a duration",
     lambda d: criterion(d, "exc-live-vaccine")["rule"]["all"][1].update(value="a month or so")),
    ("missing criterion text", "exc-transplant", "text", "missing",
     lambda d: criterion(d, "exc-transplant").pop("text")),
    ("duplicate criterion id", "inc-age", "id", "duplicate criterion id",
     lambda d: criterion(d, "inc-sle").update(id="inc-age")),
    ("rule and verify together", "inc-sledai", "rule", "either a rule or 'verify: site'",
     lambda d: criterion(d, "inc-sledai").update(rule={"fact": "age", "op": "gte", "value": 1})),
    ("neither rule nor verify", "exc-transplant", "rule", "either a rule",
     lambda d: criterion(d, "exc-transplant").pop("rule")),
    ("bad kind", "exc-transplant", "kind", "inclusion or exclusion",
     lambda d: criterion(d, "exc-transplant").update(kind="exclude")),
    ("misspelt criterion field", "exc-transplant", "rulez", "unknown field",
     lambda d: criterion(d, "exc-transplant").update(rulez=1)),
    ("missing site city", "NCT06421701", "sites[0].city", "missing",
     lambda d: d["sites"][0].pop("city")),
    ("bad setting name", "NCT06421701", "sites[0].contact.email", "setting",
     lambda d: d["sites"][0]["contact"].update(email="${lowercase}")),
    ("missing site id", "NCT06421701", "sites[0].id", "short id",
     lambda d: d["sites"][0].pop("id")),
    ("site id with spaces", "NCT06421701", "sites[0].id", "short id",
     lambda d: d["sites"][0].update(id="Second Hospital")),
    ("bad status", "NCT06421701", "status", "must be one of",
     lambda d: d.update(status="open")),
]


@pytest.mark.parametrize("what, item, field, problem, change", TRIAL_BREAKAGES, ids=[b[0] for b in TRIAL_BREAKAGES])
def test_broken_trial_file_names_file_criterion_and_field(trials_copy, what, item, field, problem, change):
    edit(trials_copy / GOOD_TRIAL, change)
    with pytest.raises(TrialDataError) as caught:
        load_catalog(trials_copy)
    error = caught.value
    assert (error.file, error.item, error.field) == (GOOD_TRIAL, item, field), str(error)
    assert problem in error.problem
    assert str(error).startswith(f"{GOOD_TRIAL}: {item}: {field}: ")


def fact(data, fact_id):
    return next(f for f in data["facts"] if f["id"] == fact_id)


FACT_BREAKAGES = [
    ("follow-up pointing nowhere", "cancer", "follow_ups.ask", "unknown fact 'cancer_type'",
     lambda d: fact(d, "cancer")["follow_ups"][0].update(ask=["cancer_type"])),
    ("follow-up trigger of the wrong type", "cancer", "follow_ups.when", "true or false",
     lambda d: fact(d, "cancer")["follow_ups"][0].update(when="yes")),
    ("duplicate fact id", "age", "id", "duplicate fact id",
     lambda d: d["facts"].append(dict(fact(d, "age")))),
    ("unknown answer type", "age", "type", "must be one of",
     lambda d: fact(d, "age").update(type="integer")),
    ("missing question", "age", "question", "missing",
     lambda d: fact(d, "age").pop("question")),
    ("missing guardian wording", "age", "question_guardian", "missing",
     lambda d: fact(d, "age").pop("question_guardian")),
    ("number without bounds", "age", "max", "bounds",
     lambda d: fact(d, "age").pop("max")),
    ("choice without options", "sex", "options", "needs options",
     lambda d: fact(d, "sex").pop("options")),
    ("group naming an unknown fact", "health_history", "facts", "unknown fact 'cancre'",
     lambda d: d["groups"][3]["facts"].append("cancre")),
    ("group with a non-yes/no fact", "health_history", "facts", "not a yes/no fact",
     lambda d: d["groups"][3]["facts"].append("age")),
    ("fact without a label", "hiv", "label", "missing",
     lambda d: fact(d, "hiv").pop("label")),
]


@pytest.mark.parametrize("what, item, field, problem, change", FACT_BREAKAGES, ids=[b[0] for b in FACT_BREAKAGES])
def test_broken_fact_bank_names_file_fact_and_field(trials_copy, what, item, field, problem, change):
    edit(trials_copy / "facts.yml", change)
    with pytest.raises(TrialDataError) as caught:
        load_catalog(trials_copy)
    error = caught.value
    assert (error.file, error.item, error.field) == ("facts.yml", item, field), str(error)
    assert problem in error.problem


def test_yaml_syntax_error_names_the_file(trials_copy):
    (trials_copy / GOOD_TRIAL).write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(TrialDataError, match=GOOD_TRIAL):
        load_catalog(trials_copy)


def test_duplicate_trial_id_across_files(trials_copy):
    shutil.copy(trials_copy / GOOD_TRIAL, trials_copy / "zz-copy.yml")
    with pytest.raises(TrialDataError) as caught:
        load_catalog(trials_copy)
    assert (caught.value.file, caught.value.field) == ("zz-copy.yml", "id")
    assert GOOD_TRIAL in caught.value.problem


def test_check_command_refuses_a_broken_file_and_accepts_good_ones(trials_copy):
    ok = subprocess.run([sys.executable, "-m", "prescreen.screening.check", str(trials_copy)], cwd=ROOT,
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "NCT06421701" in ok.stdout
    edit(trials_copy / GOOD_TRIAL, lambda d: criterion(d, "inc-age")["rule"]["all"][0].update(fact="agee"))
    broken = subprocess.run([sys.executable, "-m", "prescreen.screening.check", str(trials_copy)], cwd=ROOT,
                            capture_output=True, text=True)
    assert broken.returncode == 1
    assert f"{GOOD_TRIAL}: inc-age: rule.all[0].fact: unknown fact 'agee'" in broken.stderr


def test_duplicated_key_is_an_error_not_a_silent_overwrite(trials_copy):
    path = trials_copy / GOOD_TRIAL
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("status: recruiting\n", "status: recruiting\nstatus: completed\n", 1), encoding="utf-8")
    with pytest.raises(TrialDataError) as caught:
        load_catalog(trials_copy)
    assert caught.value.file == GOOD_TRIAL and "duplicate key 'status'" in caught.value.problem


def test_one_site_id_for_two_hospitals_is_refused(trials_copy):
    other = trials_copy / "cd19-bcma-car-t-sle-wuhan.yml"
    shutil.copy(TRIALS_DIR / other.name, other)
    edit(other, lambda d: d["sites"][0].update(id="hangzhou-zju-second"))
    with pytest.raises(TrialDataError) as caught:
        load_catalog(trials_copy)
    assert caught.value.field == "sites[0].id" and "already the id of" in caught.value.problem
