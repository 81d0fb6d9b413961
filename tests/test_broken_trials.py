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


# ---- every patient-facing text needs its Chinese version (issue 15) ----
TRANSLATION_BREAKAGES = [
    ("criterion plain without Chinese", "exc-hepatitis-hiv", "plain_zh", 'missing Chinese version of "plain"',
     lambda d: criterion(d, "exc-hepatitis-hiv").pop("plain_zh")),
    ("criterion plain with empty Chinese", "exc-transplant", "plain_zh", 'empty Chinese version of "plain"',
     lambda d: criterion(d, "exc-transplant").update(plain_zh="  ")),
    ("criterion plain with a blank Chinese field", "exc-transplant", "plain_zh", 'empty Chinese version of "plain"',
     lambda d: criterion(d, "exc-transplant").update(plain_zh=None)),
    ("Chinese plain that is not text", "exc-transplant", "plain_zh", 'Chinese version of "plain" must be text',
     lambda d: criterion(d, "exc-transplant").update(plain_zh=["本研究"])),
    ("Chinese plain with no English plain", "inc-sledai", "plain_zh", 'a Chinese version with no English "plain"',
     lambda d: criterion(d, "inc-sledai").update(plain_zh="本研究招收病情活动的人。")),
    ("Chinese plain that drops {you}", "exc-other-study", "plain_zh", "must name the person with {you}",
     lambda d: criterion(d, "exc-other-study").update(plain_zh="本研究要求距离您参加其他临床研究已满 3 个月。")),
    ("Chinese plain with an unknown placeholder", "exc-other-study", "plain_zh", "unknown placeholder {您}",
     lambda d: criterion(d, "exc-other-study").update(plain_zh="本研究要求距离{您}参加其他临床研究已满 3 个月。")),
    ("short title without Chinese", "NCT06421701", "short_title_zh", 'missing Chinese version of "short_title"',
     lambda d: d.pop("short_title_zh")),
    ("summary without Chinese", "NCT06421701", "plain_summary_zh", 'missing Chinese version of "plain_summary"',
     lambda d: d.pop("plain_summary_zh")),
    ("summary with empty Chinese", "NCT06421701", "plain_summary_zh", 'empty Chinese version of "plain_summary"',
     lambda d: d.update(plain_summary_zh="")),
    ("Chinese age note with no English one", "NCT06421701", "age_note_zh", 'a Chinese version with no English "age_note"',
     lambda d: d.update(age_note_zh="年龄范围由研究团队确认。")),
    ("conditions without Chinese", "NCT06421701", "conditions_zh", 'missing Chinese version of "conditions"',
     lambda d: d.pop("conditions_zh")),
    ("Chinese conditions not matching the English list", "NCT06421701", "conditions_zh", "must list the 1 conditions",
     lambda d: d.update(conditions_zh=["系统性红斑狼疮", "干燥综合征"])),
    ("site short name without Chinese", "NCT06421701", "sites[0].short_name_zh",
     'missing Chinese version of "short_name" (site hangzhou-zju-second)',
     lambda d: d["sites"][0].pop("short_name_zh")),
    ("site name with empty Chinese", "NCT06421701", "sites[0].name_zh", 'empty Chinese version of "name"',
     lambda d: d["sites"][0].update(name_zh=" ")),
    ("site city without Chinese", "NCT06421701", "sites[0].city_zh", 'missing Chinese version of "city"',
     lambda d: d["sites"][0].pop("city_zh")),
    ("Chinese short name too long for a card", "NCT06421701", "sites[0].short_name_zh", "at most 12 characters",
     lambda d: d["sites"][0].update(short_name_zh="浙江大学医学院附属第二医院")),
    ("a Chinese official title (not a field)", "NCT06421701", "title_zh", "unknown field",
     lambda d: d.update(title_zh="抗 CD19 CAR-NK 细胞治疗难治性/复发性系统性红斑狼疮")),
]


@pytest.mark.parametrize("what, item, field, problem, change", TRANSLATION_BREAKAGES,
                         ids=[b[0] for b in TRANSLATION_BREAKAGES])
def test_a_missing_or_empty_chinese_version_names_file_criterion_and_field(trials_copy, what, item, field, problem,
                                                                            change):
    edit(trials_copy / GOOD_TRIAL, change)
    with pytest.raises(TrialDataError) as caught:
        load_catalog(trials_copy)
    error = caught.value
    assert (error.file, error.item, error.field) == (GOOD_TRIAL, item, field), str(error)
    assert problem in error.problem, error.problem


def test_check_command_names_the_text_without_its_chinese_version(trials_copy):
    edit(trials_copy / GOOD_TRIAL, lambda d: criterion(d, "exc-hepatitis-hiv").pop("plain_zh"))
    broken = subprocess.run([sys.executable, "-m", "prescreen.screening.check", str(trials_copy)], cwd=ROOT,
                            capture_output=True, text=True)
    assert broken.returncode == 1
    assert (f'{GOOD_TRIAL}: exc-hepatitis-hiv: plain_zh: missing Chinese version of "plain"'
            in broken.stderr), broken.stderr


def test_other_mistakes_of_a_criterion_are_named_before_its_missing_chinese(trials_copy):
    def change(d):
        criterion(d, "exc-transplant").pop("plain_zh")
        criterion(d, "exc-transplant")["rule"].update(fact="transplnt")
    edit(trials_copy / GOOD_TRIAL, change)
    with pytest.raises(TrialDataError) as caught:
        load_catalog(trials_copy)
    assert (caught.value.item, caught.value.field) == ("exc-transplant", "rule.fact")


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
    ("question without Chinese", "age", "question_zh", 'missing Chinese version of "question"',
     lambda d: fact(d, "age").pop("question_zh")),
    ("guardian wording with empty Chinese", "age", "question_guardian_zh",
     'empty Chinese version of "question_guardian"',
     lambda d: fact(d, "age").update(question_guardian_zh="")),
    ("why without Chinese", "hiv", "why_zh", 'missing Chinese version of "why"',
     lambda d: fact(d, "hiv").pop("why_zh")),
    ("label without Chinese", "hiv", "label_zh", 'missing Chinese version of "label"',
     lambda d: fact(d, "hiv").pop("label_zh")),
    ("Chinese sensitive topic with no English one", "hiv", "sensitive_zh",
     'a Chinese version with no English "sensitive"',
     lambda d: fact(d, "hiv").pop("sensitive")),
    ("option without Chinese", "sex", "options.label_zh", 'missing Chinese version of "label" (female)',
     lambda d: fact(d, "sex")["options"][0].pop("label_zh")),
    ("group question without Chinese", "health_history", "question_zh", 'missing Chinese version of "question"',
     lambda d: d["groups"][3].pop("question_zh")),
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
