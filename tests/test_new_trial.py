"""Adding a sixth trial needs only a new YAML file: no code, no NLU, no retraining."""
import shutil

from prescreen.screening.eligibility import NOT_ELIGIBLE, POSSIBLY_ELIGIBLE, evaluate_trial
from prescreen.screening.planner import Planner
from prescreen.screening.trials import load_catalog

from conftest import TRIALS_DIR

SIXTH_TRIAL = """
id: NCT00000006
title: A Made-up CAR-T Study for Myositis in Older Adults
short_title: CAR-T cells for myositis (test)
short_title_zh: CAR-T 细胞治疗肌炎（测试）
treatment: CAR-T cells
plain_summary: A test trial that only exists in this test.
plain_summary_zh: 只在这个测试里存在的测试研究。
conditions: [Idiopathic inflammatory myopathy]
conditions_zh: [特发性炎性肌病]
age: {min: 50, max: 80}
sexes: all
status: recruiting
source: none (test)
sites:
  - id: test-hospital
    name: Test Hospital
    name_zh: 测试医院
    city: Testville
    city_zh: 测试市
    contact: {role: study coordinator, email: "${SITE_TEST_EMAIL}"}
criteria:
  - id: inc-myositis
    kind: inclusion
    text: Myositis.
    rule: {fact: condition, op: eq, value: myositis}
  - id: inc-age
    kind: inclusion
    text: Aged 50 to 80.
    rule:
      all:
        - {fact: age, op: gte, value: 50}
        - {fact: age, op: lte, value: 80}
  - id: exc-dialysis
    kind: exclusion
    text: Dialysis within 6 months.
    rule:
      all:
        - {fact: dialysis, op: eq, value: true}
        - {fact: dialysis_when, op: within, value: 6 months}
"""


def test_a_sixth_trial_file_is_screened_with_no_code_change(tmp_path):
    for path in TRIALS_DIR.glob("*.yml"):
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "nct00000006-test.yml").write_text(SIXTH_TRIAL, encoding="utf-8")
    catalog = load_catalog(tmp_path)
    assert len(catalog.trials) == 6
    sixth = catalog.trial("NCT00000006")
    planner = Planner(catalog)

    # A 70-year-old with myositis is out of every seed trial but this one ...
    answers = {"condition": "myositis", "age": 70}
    verdicts = {t.id: evaluate_trial(t, answers).verdict for t in catalog.trials}
    assert verdicts.pop("NCT00000006") == POSSIBLY_ELIGIBLE
    assert set(verdicts.values()) == {NOT_ELIGIBLE}
    # ... and the planner now asks what only the new trial needs.
    question = planner.next_question(answers)
    assert question is not None and "dialysis" in question.facts
    assert evaluate_trial(sixth, {**answers, "dialysis": False}).verdict == POSSIBLY_ELIGIBLE
