"""Clinical fidelity: each criterion, as its listing states it, against patients it
accepts and patients it excludes (issue 13).

Each pair is one criterion: a patient the listing accepts must stay `possibly_eligible`
(the criterion does not rule them out); the matching patient it excludes gets
`not_eligible` (or, for a failure that time lifts, "may fit after a waiting period"),
with that criterion among the reasons. Where a question was narrowed so that a patient
can answer it reliably, the pair also checks the question's words: the accepted
patient answers "no" only because the question tells them their case does not count.

Where the listing's words cannot be settled from a patient's answers (a drug's target,
"requiring systemic therapy"), the "excluded" side is a site check: the study team is
asked to decide, and the verdict stays open.
"""
from __future__ import annotations

from datetime import date

import pytest

from prescreen.screening.durations import DaysAgo
from prescreen.screening.eligibility import (
    NOT_ELIGIBLE, POSSIBLY_ELIGIBLE, POSSIBLY_ELIGIBLE_LATER, VERIFY_SITE, evaluate_trial,
)

C000 = "cd19-car-t-sle-children-hangzhou"
N001 = "ultra-fast-cd19-car-t-sle-nanjing"
W002 = "cd19-bcma-car-t-sle-wuhan"
Z003 = "NCT06420154"
K004 = "NCT06421701"

SITE = "site"  # the excluded side is left to the study team: verdict open, criterion "verify_site"
LATER = POSSIBLY_ELIGIBLE_LATER
TODAY = date(2026, 11, 23)


def ago(days):
    return DaysAgo.exactly(days)


WEEK, MONTH, YEAR = 7, 30, 365

# An adult with refractory lupus who fits every study.
CLEAN = {
    "condition": "sle", "age": 34, "refractory": True, "diagnosis_when": DaysAgo.more_than(730),
    "sex": "female", "pregnant": False, "breastfeeding": False,
    "prior_car_t": False, "prior_other_cell_gene_therapy": False, "prior_cd19_therapy": False,
    "b_cell_therapy": False, "other_biologic": False, "jak_btk_inhibitor": False, "chemo_drug": False,
    "steroid_injection": False, "live_vaccine": False, "clinical_trial": False, "plasma_exchange": False,
    "ivig": False, "dialysis": False, "transplant": False, "cancer": False, "hiv": False,
    "hepatitis": False, "tuberculosis": False, "active_infection": False, "heart_attack": False,
    "heart_stent": False, "brain_condition": False, "suicidal_thoughts": False, "other_autoimmune": False,
    "blood_thinner": False, "major_surgery": False, "surgery_planned": False,
}


def cancer(kind, when):
    return {"cancer": True, "cancer_kind": kind, "cancer_when": when}


# (trial, criterion, name, accepted patient, excluded patient, excluded verdict, words the question must say)
PAIRS = [
    # ---- the Found items of issue 13 ----
    (W002, "exc-bleeding-anticoagulant", "daily aspirin is not an anticoagulant; warfarin is",
     {"blood_thinner": False}, {"blood_thinner": True}, NOT_ELIGIBLE,
     ("blood_thinner", ["anticoagulant", "Aspirin and clopidogrel", "do not count"])),
    (W002, "exc-tuberculosis", "TB treated and cured 12 years ago; untreated latent TB",
     {"tuberculosis": False}, {"tuberculosis": True}, NOT_ELIGIBLE,
     ("tuberculosis", ["now", "treated and cured does not count"])),
    (K004, "exc-tuberculosis", "TB treated and cured 12 years ago; active TB",
     {"tuberculosis": False}, {"tuberculosis": True}, NOT_ELIGIBLE,
     ("tuberculosis", ["now", "treated and cured does not count"])),
    (W002, "exc-other-autoimmune", "Hashimoto's on thyroxine; rheumatoid arthritis on methotrexate",
     {"other_autoimmune": False}, {"other_autoimmune": True}, SITE,
     ("other_autoimmune", ["thyroid hormone", "Creams", "do not count"])),
    (K004, "exc-other-autoimmune", "psoriasis on creams only; rheumatoid arthritis on methotrexate",
     {"other_autoimmune": False}, {"other_autoimmune": True}, SITE,
     ("other_autoimmune", ["by mouth, injection or drip"])),
    (W002, "exc-cns", "numb feet from nerve damage; a seizure 3 weeks ago",
     {"brain_condition": False}, {"brain_condition": True}, NOT_ELIGIBLE,
     ("brain_condition", ["8 weeks", "brain or spinal cord", "Nerve damage elsewhere"])),
    (C000, "exc-heart", "a stent and no heart attack; a heart attack 2 weeks ago",
     {"heart_stent": True, "heart_stent_when": ago(2 * MONTH)},
     {"heart_attack": True, "heart_attack_when": ago(2 * WEEK)}, LATER,
     ("heart_attack", ["heart attack"])),
    (Z003, "exc-heart", "a stent 13 months ago; a stent 1 month ago",
     {"heart_stent": True, "heart_stent_when": ago(13 * MONTH)},
     {"heart_stent": True, "heart_stent_when": ago(MONTH)}, NOT_ELIGIBLE,
     ("heart_stent", ["stent", "balloon"])),
    (C000, "exc-infection", "an infection treated with a cream; one treated with antibiotic tablets",
     {"active_infection": False}, {"active_infection": True}, SITE,
     ("active_infection", ["tablets, injections or a drip", "Creams"])),
    (Z003, "exc-immunosuppressive-antibodies", "denosumab 2 weeks ago is not an immunosuppressive antibody",
     {"other_biologic": True, "other_biologic_when": ago(6 * WEEK)},
     {"other_biologic": True, "other_biologic_when": ago(2 * WEEK)}, SITE, None),
    (Z003, "exc-prior-cd19", "rituximab user; inebilizumab user",
     {"prior_cd19_therapy": False, "b_cell_therapy": True, "b_cell_therapy_when": ago(YEAR)},
     {"prior_cd19_therapy": True}, NOT_ELIGIBLE,
     ("prior_cd19_therapy", ["inebilizumab", "Rituximab and belimumab are not among them"])),
    (K004, "exc-prior-cd19", "rituximab user; tafasitamab user",
     {"prior_cd19_therapy": False, "b_cell_therapy": True, "b_cell_therapy_when": ago(YEAR)},
     {"prior_cd19_therapy": True}, NOT_ELIGIBLE, ("prior_cd19_therapy", ["tafasitamab"])),
    (W002, "exc-lymphoproliferative", "myeloid leukemia cured 10 years ago; lymphoma 10 years ago",
     cancer("blood_other", ago(10 * YEAR)), cancer("lymphoma", ago(10 * YEAR)), NOT_ELIGIBLE, None),
    (W002, "inc-sle-24-weeks", "diagnosed exactly 24 weeks ago; diagnosed 20 weeks ago (a wait)",
     {"diagnosis_when": ago(24 * WEEK)}, {"diagnosis_when": ago(20 * WEEK)}, LATER,
     ("diagnosis_when", ["months"])),
    (Z003, "inc-aps-refractory", "catastrophic APS, not 'refractory'; the site decides",
     {"condition": "aps", "refractory": False}, {"condition": "aps", "refractory": False}, SITE, None),
    (Z003, "inc-sle-refractory", "SLE that did not respond; SLE that responds to usual treatment",
     {"refractory": True}, {"refractory": False}, NOT_ELIGIBLE, None),
    (W002, "exc-prior-car-t", "another cell therapy (stem cells): the site checks if it was modified T cells",
     {"prior_other_cell_gene_therapy": True}, {"prior_car_t": True}, NOT_ELIGIBLE, None),
    (Z003, "exc-prior-car-t", "other cell therapy left to the site; CAR-T excluded",
     {"prior_other_cell_gene_therapy": True}, {"prior_car_t": True}, NOT_ELIGIBLE, None),
    (Z003, "exc-malignancy", "basal cell skin cancer 2 years ago; squamous cell skin cancer 2 years ago",
     cancer("skin_basal", ago(2 * YEAR)), cancer("skin_squamous", ago(2 * YEAR)), NOT_ELIGIBLE, None),
    (K004, "exc-malignancy", "squamous cell skin cancer treated (allowed); lung cancer",
     cancer("skin_squamous", ago(2 * YEAR)), cancer("other", ago(2 * YEAR)), NOT_ELIGIBLE, None),
    (K004, "exc-surgery", "no surgery planned; a small operation planned",
     {"surgery_planned": False}, {"surgery_planned": True, "surgery_planned_major": False}, NOT_ELIGIBLE,
     ("surgery_planned", ["any operation", "large or small"])),
    (W002, "exc-surgery", "a small operation planned; a major operation planned",
     {"surgery_planned": True, "surgery_planned_major": False},
     {"surgery_planned": True, "surgery_planned_major": True}, NOT_ELIGIBLE, None),
    (W002, "exc-malignancy", "cancer found 7 years ago, treated until 6 years ago; treated until 3 years ago",
     cancer("breast", ago(6 * YEAR)), cancer("breast", ago(3 * YEAR)), NOT_ELIGIBLE,
     ("cancer_when", ["treatment"])),

    # ---- age and illness ----
    (C000, "inc-age", "5 years old; 4 years old", {"age": 5}, {"age": 4}, NOT_ELIGIBLE, None),
    (C000, "inc-age", "an adult of 40 (no upper limit); 3 years old", {"age": 40}, {"age": 3}, NOT_ELIGIBLE, None),
    (W002, "inc-age", "18; 17", {"age": 18}, {"age": 17}, NOT_ELIGIBLE, None),
    (W002, "inc-age", "70; 71", {"age": 70}, {"age": 71}, NOT_ELIGIBLE, None),
    (Z003, "inc-age", "65; 66", {"age": 65}, {"age": 66}, NOT_ELIGIBLE, None),
    (Z003, "inc-age", "18; 17", {"age": 18}, {"age": 17}, NOT_ELIGIBLE, None),
    (K004, "inc-age", "65; 66", {"age": 65}, {"age": 66}, NOT_ELIGIBLE, None),
    (K004, "inc-age", "18; 17", {"age": 18}, {"age": 17}, NOT_ELIGIBLE, None),
    (C000, "inc-sle", "lupus; myositis", {"condition": "sle"}, {"condition": "myositis"}, NOT_ELIGIBLE, None),
    (Z003, "inc-condition", "Sjögren's; another illness", {"condition": "sjogren"}, {"condition": "other"},
     NOT_ELIGIBLE, None),
    (K004, "inc-sle", "lupus; APS", {"condition": "sle"}, {"condition": "aps"}, NOT_ELIGIBLE, None),
    (N001, "inc-refractory-sle", "refractory lupus; lupus that responds", {"refractory": True},
     {"refractory": False}, NOT_ELIGIBLE, None),
    (N001, "inc-refractory-sle", "lupus; vasculitis", {"condition": "sle"}, {"condition": "anca_vasculitis"},
     NOT_ELIGIBLE, None),
    (C000, "inc-refractory", "active despite treatment, or could not take it; responds", {"refractory": True},
     {"refractory": False}, NOT_ELIGIBLE, ("refractory", ["side effects"])),
    (W002, "inc-refractory", "active despite 12 weeks; responds", {"refractory": True}, {"refractory": False},
     NOT_ELIGIBLE, None),
    (K004, "inc-refractory", "relapsed after remission; responds", {"refractory": True}, {"refractory": False},
     NOT_ELIGIBLE, ("refractory", ["come back"])),

    # ---- earlier cell therapies and transplants ----
    (C000, "exc-prior-car-t", "no CAR-T; CAR-T before", {"prior_car_t": False}, {"prior_car_t": True},
     NOT_ELIGIBLE, None),
    (K004, "exc-prior-cell-gene-therapy", "no cell therapy; a stem cell therapy",
     {"prior_other_cell_gene_therapy": False}, {"prior_other_cell_gene_therapy": True}, NOT_ELIGIBLE, None),
    (C000, "exc-transplant", "no transplant; a kidney transplant", {"transplant": False}, {"transplant": True},
     NOT_ELIGIBLE, None),
    (W002, "exc-transplant", "no transplant; a bone marrow transplant", {"transplant": False},
     {"transplant": True}, NOT_ELIGIBLE, None),
    (K004, "exc-transplant", "no transplant; a liver transplant", {"transplant": False}, {"transplant": True},
     NOT_ELIGIBLE, None),
    (Z003, "exc-ssc-stem-cell-transplant", "scleroderma, no transplant; a transplant the site must check",
     {"condition": "systemic_sclerosis", "transplant": False},
     {"condition": "systemic_sclerosis", "transplant": True}, SITE, None),

    # ---- infections ----
    (C000, "exc-infections-serology", "HIV negative; HIV positive", {"hiv": False}, {"hiv": True},
     NOT_ELIGIBLE, None),
    (W002, "exc-infections-serology", "HIV negative; HIV positive", {"hiv": False}, {"hiv": True},
     NOT_ELIGIBLE, None),
    (Z003, "exc-hepatitis-hiv", "HIV negative; HIV positive", {"hiv": False}, {"hiv": True}, NOT_ELIGIBLE, None),
    (K004, "exc-immunodeficiency", "HIV negative; HIV positive", {"hiv": False}, {"hiv": True}, NOT_ELIGIBLE, None),

    # ---- waiting periods: washouts and recent events ----
    (C000, "exc-live-vaccine", "a live vaccine 5 weeks ago; 3 weeks ago (a wait)",
     {"live_vaccine": True, "live_vaccine_when": ago(5 * WEEK)},
     {"live_vaccine": True, "live_vaccine_when": ago(3 * WEEK)}, LATER, None),
    (W002, "exc-live-vaccine", "a live vaccine 5 weeks ago; 2 weeks ago (a wait)",
     {"live_vaccine": True, "live_vaccine_when": ago(5 * WEEK)},
     {"live_vaccine": True, "live_vaccine_when": ago(2 * WEEK)}, LATER, None),
    (Z003, "exc-live-vaccine", "5 weeks ago; 1 week ago (a wait)",
     {"live_vaccine": True, "live_vaccine_when": ago(5 * WEEK)},
     {"live_vaccine": True, "live_vaccine_when": ago(WEEK)}, LATER, None),
    (K004, "exc-live-vaccine", "5 weeks ago; today (a wait)",
     {"live_vaccine": True, "live_vaccine_when": ago(5 * WEEK)},
     {"live_vaccine": True, "live_vaccine_when": ago(0)}, LATER, None),
    (K004, "exc-b-cell-therapy", "belimumab 5 weeks ago; last week (a wait)",
     {"b_cell_therapy": True, "b_cell_therapy_when": ago(5 * WEEK)},
     {"b_cell_therapy": True, "b_cell_therapy_when": ago(WEEK)}, LATER,
     ("b_cell_therapy_when", ["rituximab, belimumab, telitacicept"])),
    (W002, "exc-b-cell-therapy", "never a B-cell medicine; belimumab years ago (ever counts here)",
     {"b_cell_therapy": False}, {"b_cell_therapy": True, "b_cell_therapy_when": ago(3 * YEAR)},
     NOT_ELIGIBLE, None),
    (Z003, "exc-cytotoxic", "monthly cyclophosphamide, last dose 3 weeks ago; 1 week ago (a wait)",
     {"chemo_drug": True, "chemo_drug_when": ago(3 * WEEK)},
     {"chemo_drug": True, "chemo_drug_when": ago(WEEK)}, LATER, ("chemo_drug_when", ["cyclophosphamide"])),
    (W002, "exc-jak-btk", "tofacitinib 13 weeks ago; 4 weeks ago (a wait)",
     {"jak_btk_inhibitor": True, "jak_btk_inhibitor_when": ago(13 * WEEK)},
     {"jak_btk_inhibitor": True, "jak_btk_inhibitor_when": ago(4 * WEEK)}, LATER,
     ("jak_btk_inhibitor_when", ["JAK or BTK"])),
    (W002, "exc-steroid-injection", "steroid tablets only; a steroid drip 2 weeks ago (a wait)",
     {"steroid_injection": False}, {"steroid_injection": True, "steroid_injection_when": ago(2 * WEEK)}, LATER,
     ("steroid_injection", ["Steroid tablets do not count"])),
    (W002, "exc-plasma-ivig", "IVIG 20 days ago; 10 days ago (a wait)",
     {"ivig": True, "ivig_when": ago(20)}, {"ivig": True, "ivig_when": ago(10)}, LATER, None),
    (K004, "exc-plasmapheresis", "plasma exchange 4 months ago; 1 month ago (a wait)",
     {"plasma_exchange": True, "plasma_exchange_when": ago(4 * MONTH)},
     {"plasma_exchange": True, "plasma_exchange_when": ago(MONTH)}, LATER, None),
    (C000, "exc-nephritis", "dialysis a year ago; 2 months ago (a wait)",
     {"dialysis": True, "dialysis_when": ago(YEAR)}, {"dialysis": True, "dialysis_when": ago(2 * MONTH)}, LATER,
     None),
    (K004, "exc-lupus-nephritis", "dialysis 10 weeks ago; 2 weeks ago (a wait)",
     {"dialysis": True, "dialysis_when": ago(10 * WEEK)}, {"dialysis": True, "dialysis_when": ago(2 * WEEK)},
     LATER, None),
    (C000, "exc-other-study", "another study ended 4 months ago; 1 month ago (a wait)",
     {"clinical_trial": True, "clinical_trial_when": ago(4 * MONTH)},
     {"clinical_trial": True, "clinical_trial_when": ago(MONTH)}, LATER, None),
    (W002, "exc-other-study", "ended 4 months ago; still in it (a wait)",
     {"clinical_trial": True, "clinical_trial_when": ago(4 * MONTH)},
     {"clinical_trial": True, "clinical_trial_when": ago(0)}, LATER, None),
    (K004, "exc-other-study", "ended 4 months ago; 2 months ago (a wait)",
     {"clinical_trial": True, "clinical_trial_when": ago(4 * MONTH)},
     {"clinical_trial": True, "clinical_trial_when": ago(2 * MONTH)}, LATER, None),
    (W002, "exc-surgery", "a major operation 13 weeks ago; 8 weeks ago (a wait)",
     {"major_surgery": True, "major_surgery_when": ago(13 * WEEK)},
     {"major_surgery": True, "major_surgery_when": ago(8 * WEEK)}, LATER, None),
    (K004, "exc-surgery", "a major operation 9 weeks ago; 6 weeks ago (a wait)",
     {"major_surgery": True, "major_surgery_when": ago(9 * WEEK)},
     {"major_surgery": True, "major_surgery_when": ago(6 * WEEK)}, LATER, None),
    (C000, "exc-heart", "a heart attack 7 months ago; 5 months ago (a wait)",
     {"heart_attack": True, "heart_attack_when": ago(7 * MONTH)},
     {"heart_attack": True, "heart_attack_when": ago(5 * MONTH)}, LATER, None),
    (Z003, "exc-heart", "a heart attack 13 months ago; 8 months ago (a wait)",
     {"heart_attack": True, "heart_attack_when": ago(13 * MONTH)},
     {"heart_attack": True, "heart_attack_when": ago(8 * MONTH)}, LATER, None),

    # ---- pregnancy, cancer, the rest ----
    (C000, "exc-pregnancy-test", "breastfeeding is not in this listing; pregnant",
     {"breastfeeding": True}, {"pregnant": True}, NOT_ELIGIBLE, None),
    (W002, "exc-pregnancy", "not pregnant; breastfeeding", {"pregnant": False}, {"breastfeeding": True},
     NOT_ELIGIBLE, None),
    (Z003, "exc-pregnant", "a man; a woman who is pregnant", {"sex": "male"},
     {"pregnant": True}, NOT_ELIGIBLE, None),
    (K004, "exc-pregnant", "not breastfeeding; breastfeeding", {"breastfeeding": False}, {"breastfeeding": True},
     NOT_ELIGIBLE, None),
    (C000, "exc-malignancy", "never had cancer; basal cell skin cancer 20 years ago (any cancer counts)",
     {"cancer": False}, cancer("skin_basal", ago(20 * YEAR)), NOT_ELIGIBLE, None),
    (Z003, "exc-malignancy", "breast cancer in situ a year ago (excepted); colon cancer a year ago",
     cancer("breast_in_situ", ago(YEAR)), cancer("other", ago(YEAR)), NOT_ELIGIBLE, None),
    (Z003, "exc-malignancy", "colon cancer treated 10 years ago: the site checks control; 2 years ago",
     cancer("other", ago(10 * YEAR)), cancer("other", ago(2 * YEAR)), NOT_ELIGIBLE, None),
    (K004, "exc-malignancy", "breast cancer, adequately treated (allowed); leukemia",
     cancer("breast", ago(YEAR)), cancer("blood_other", ago(YEAR)), NOT_ELIGIBLE, None),
    (W002, "exc-suicide", "no such thoughts; thoughts in the past year", {"suicidal_thoughts": False},
     {"suicidal_thoughts": True}, NOT_ELIGIBLE, ("suicidal_thoughts", ["past year"])),
    (Z003, "exc-aps-other-ctd", "APS alone; APS with another autoimmune disease (the site checks)",
     {"condition": "aps", "other_autoimmune": False}, {"condition": "aps", "other_autoimmune": True}, SITE, None),
]


def _ids():
    return [f"{trial}:{criterion}:{i}" for i, (trial, criterion, *_rest) in enumerate(PAIRS)]


def test_at_least_sixty_pairs_across_all_five_trials():
    assert len(PAIRS) >= 60
    assert {p[0] for p in PAIRS} == {C000, N001, W002, Z003, K004}


@pytest.mark.parametrize("trial_id, criterion_id, name, accepted, excluded, verdict, words", PAIRS, ids=_ids())
def test_pair(catalog, trial_id, criterion_id, name, accepted, excluded, verdict, words):
    trial = catalog.trial(trial_id)
    assert any(c.id == criterion_id for c in trial.criteria), criterion_id

    ok = evaluate_trial(trial, {**CLEAN, **accepted}, today=TODAY)
    assert ok.verdict == POSSIBLY_ELIGIBLE, (name, [r.id for r in ok.failed])
    assert criterion_id not in [r.id for r in ok.failed]

    out = evaluate_trial(trial, {**CLEAN, **excluded}, today=TODAY)
    status = next(r.status for r in out.criteria if r.id == criterion_id)
    if verdict == SITE:
        assert out.verdict == POSSIBLY_ELIGIBLE and status == VERIFY_SITE, (name, out.verdict, status)
    else:
        assert out.verdict == verdict, (name, out.verdict, [r.id for r in out.failed])
        assert criterion_id in [r.id for r in out.failed], name
    if verdict == LATER:
        assert out.earliest_date is not None and out.earliest_date > TODAY

    if words:
        fact, needed = words
        for question in (catalog.facts[fact].question, catalog.facts[fact].question_guardian):
            for word in needed:
                assert word.lower() in question.lower(), (fact, word)
