"""The site's summary (email, webhook, local outbox): the same one-line profile and grouping as the
staff pages, answers in words, current medicines, and times in the sites' zone (STAFF_TIMEZONE)."""
import re
from datetime import datetime, timezone

import pytest

from prescreen.referral.summary import (
    Consent,
    Contact,
    ago,
    is_boilerplate,
    profile,
    readable,
    render_summary,
    summary_context,
)
from prescreen.screening.conversation import Screening
from prescreen.screening.durations import DaysAgo
from prescreen.screening.eligibility import evaluate_trial

CHILD_TRIAL, ADULT_TRIAL = "cd19-car-t-sle-children-hangzhou", "NCT06421701"
ACCEPTED = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


def child_screening() -> Screening:
    s = Screening(respondent="guardian")
    s.record({"condition": "sle"}, "lupus")
    s.record({"diagnosis_when": DaysAgo.exactly(730)}, "2 years ago")
    s.record({"age": 9}, "she's nine")
    s.record({"sex": "female"}, "girl")
    s.record({"hiv": "not_sure"}, "no idea")
    s.record({"prior_car_t": False}, "no")
    return s


def rendered(catalog, trial_id, screening, contact, tz=None, language="en"):
    """The summary for the trial's first site; in English unless told (the sites read Chinese:
    tests/test_staff_chinese.py has the summaries in the site's own language)."""
    trial = catalog.trial(trial_id)
    result = evaluate_trial(trial, screening.values(), list(catalog.facts))
    consent = Consent(version="2", text="I agree.", accepted_at=ACCEPTED, conversation_id="conv")
    context = summary_context(catalog, trial, trial.sites[0], result, screening.answers, screening.respondent,
                              contact, consent, "ref-1", ACCEPTED, tz, language=language)
    return context, *render_summary(context)


CONTACT = Contact(name="Wáng Fāng", phone="13800138000", preferred_time="evenings", language="Mandarin",
                  medicines="prednisone 5 mg, hydroxychloroquine 200 mg")
CHILD_LINE = ("9 years · Female · Lupus (SLE) · parent of a 9-year-old · Mandarin · best time: evenings · "
              "CAR-T cells for lupus at a children's hospital, age 5 and over (Hangzhou) · may be a match")


def test_the_summary_starts_with_the_profile_line(catalog):
    context, html, text = rendered(catalog, CHILD_TRIAL, child_screening(), CONTACT)
    assert text.splitlines()[1] == CHILD_LINE
    assert '<p class="profile">' + CHILD_LINE.replace("'", "&#39;") + "</p>" in html
    assert "Current medicines (as typed): prednisone 5 mg, hydroxychloroquine 200 mg" in text
    assert "<td>prednisone 5 mg, hydroxychloroquine 200 mg</td>" in html


def test_still_to_verify_is_grouped_with_not_sure_first_and_routine_items_apart(catalog):
    context, html, text = rendered(catalog, CHILD_TRIAL, child_screening(), CONTACT)
    block = text[text.index("STILL TO VERIFY"):text.index("CONSENT")]
    inclusion, exclusion, routine = block.index("  Inclusion ("), block.index("  Exclusion ("), block.index("Routine")
    assert inclusion < exclusion < routine
    exclusions = [line.strip() for line in block[exclusion:routine].splitlines()[1:] if line.strip()]
    assert exclusions[0].startswith("- [patient not sure]") and "(open: HIV (ever tested positive))" in exclusions[0]
    assert all(not e.startswith("- [patient not sure]") for e in exclusions[1:])
    assert not any("CAR T cell therapy previously" in e for e in exclusions)  # answered no: nothing to verify
    assert "Routine items (consent, compliance, the investigator's judgement): 2" in block
    assert "informed consent" not in block and "deem it unsuitable" not in block
    assert {item["id"] for item in context["to_verify"]["routine"]} == {"inc-consent", "exc-investigator"}
    # A follow-up question is not named as open when its own question was never asked.
    vaccine = next(e for e in exclusions if "live vaccine" in e)
    assert "When the live vaccine was" not in vaccine and "A live vaccine in the past year" in vaccine
    assert "<h3>Inclusion (" in html and "<h3>Exclusion (" in html and "<details>" in html
    html_exclusion = html[html.index("<h3>Exclusion ("):html.index("<details>")]
    assert html_exclusion.index('class="not_sure"') < html_exclusion.index('class="unknown"')


def test_listing_numbers_are_not_the_label(catalog):
    screening = Screening(respondent="self")
    screening.record({"condition": "sle"}, "lupus")
    screening.record({"age": 40}, "40")
    context, _, text = rendered(catalog, "cd19-bcma-car-t-sle-wuhan", screening, Contact(name="A"))
    items = context["to_verify"]["inclusion"] + context["to_verify"]["exclusion"]
    assert items and not any(re.match(r"\d+\s*[.、)]", item["text"]) for item in items)
    assert not re.search(r"\] \d+\.", text[text.index("STILL TO VERIFY"):text.index("CONSENT")])


def test_answers_are_in_words_never_internal_codes(catalog):
    _, html, text = rendered(catalog, CHILD_TRIAL, child_screening(), CONTACT)
    answers = text[text.index("ANSWERS"):text.index("EVERY CRITERION")]
    assert "(recorded as Lupus (SLE))" in answers and "(recorded as about 2 years ago)" in answers
    assert "(recorded as not sure)" in answers and "(recorded as Female)" in answers and "(recorded as no)" in answers
    assert "Illness\n" in answers and "Your illness" not in answers
    assert "recorded as sle" not in answers and "days ago" not in answers and "female)" not in answers


@pytest.mark.parametrize("low, high, words", [
    (730, 730, "about 2 years ago"), (700, 700, "about 2 years ago"), (5, 5, "5 days ago"), (0, 0, "today"),
    (1825, None, "more than about 5 years ago"), (1826, 2190, "about 5 to 6 years ago"),
    (90, 180, "about 3 to 6 months ago"), (0, 30, "less than about 4 weeks ago"),
    (30, 400, "between about 4 weeks and about 13 months ago"),
])
def test_how_long_ago_in_words(low, high, words):
    assert ago(low, high) == words


def test_readable_values(catalog):
    facts = catalog.facts
    assert readable(facts["condition"], "anca_vasculitis") == "ANCA vasculitis"
    assert readable(facts["hiv"], True) == "yes" and readable(facts["hiv"], "not_sure") == "not sure"
    assert readable(facts["age"], 34) == "34" and readable(None, None) == "not given"
    assert readable(facts["b_cell_therapy_when"], {"days_ago": [14, 14]}) == "about 2 weeks ago"


def test_consent_and_summary_times_are_in_the_sites_zone(catalog, monkeypatch):
    monkeypatch.setenv("STAFF_TIMEZONE", "America/New_York")
    _, html, text = rendered(catalog, ADULT_TRIAL, child_screening(), CONTACT)
    assert "accepted 2026-11-23 05:00 (America/New_York)" in text and "UTC" not in text
    assert "accepted 2026-11-23 05:00 (America/New_York)" in html
    monkeypatch.delenv("STAFF_TIMEZONE")
    _, _, text = rendered(catalog, ADULT_TRIAL, child_screening(), CONTACT)
    assert "accepted 2026-11-23 18:00 (Asia/Shanghai)" in text  # the default zone, as the staff pages use


def test_who_answered_reads_plainly(catalog):
    values = {"age": 9, "condition": "sle"}
    trial = catalog.trial(CHILD_TRIAL)
    line = profile(catalog, trial, values, "guardian", {}, "possibly_eligible")["line"]
    assert line.startswith("9 years · sex not given · Lupus (SLE) · parent of a 9-year-old · language not given")
    assert profile(catalog, trial, {}, "helper", {}, None)["answered_by"] == "a helper answered"
    later = profile(catalog, trial, values, "self", {}, "possibly_eligible_later",
                    datetime(2027, 1, 5).date())["verdict"]
    assert later == "may fit after a waiting period (from about 2027-01-05)"


def test_only_routine_items_are_collapsed(catalog):
    flagged = {t.id: sorted(c.id for c in t.criteria if is_boilerplate(c)) for t in catalog.trials}
    assert flagged == {"cd19-bcma-car-t-sle-wuhan": ["exc-investigator", "inc-consent"],
                       "cd19-car-t-sle-children-hangzhou": ["exc-investigator", "inc-consent"],
                       "NCT06420154": ["exc-investigator"],  # its inclusion item 1 is missing from the listing
                       "NCT06421701": ["exc-investigator", "inc-consent"],
                       "ultra-fast-cd19-car-t-sle-nanjing": []}


def test_the_delivered_summary_carries_the_profile_and_grouping(catalog, tmp_path):
    import json

    from prescreen.referral.handoff import create_handoff, save_screening
    from prescreen.referral.relay import Relay
    from prescreen.storage import Database

    db = Database(f"sqlite:///{tmp_path / 'prescreen.db'}")
    db.create_schema()
    try:
        screening, folder = child_screening(), tmp_path / "outbox"
        screening_id = save_screening(db, catalog, "conv-site", screening)
        handoff_id = create_handoff(db, catalog, "conv-site", screening_id, screening, CHILD_TRIAL, CONTACT, "2",
                                    "I agree.", env={"PRESCREEN_OUTBOX_DIR": str(folder)})
        assert Relay(db, env={}).run_once() == 1
        text = (folder / f"{handoff_id}.txt").read_text(encoding="utf-8")
        html = (folder / f"{handoff_id}.html").read_text(encoding="utf-8")
        payload = json.loads((folder / f"{handoff_id}.json").read_text(encoding="utf-8"))
    finally:
        db.engine.dispose()
    # Delivered in the site's language (Chinese for this site), with the same profile line and grouping.
    assert catalog.trial(CHILD_TRIAL).sites[0].language == "zh"
    chinese_line = rendered(catalog, CHILD_TRIAL, child_screening(), CONTACT, language="zh")[0]["profile"]["line"]
    assert text.splitlines()[0] == "预筛查摘要" and text.splitlines()[1] == chinese_line
    assert chinese_line.replace("'", "&#39;") in html and '<html lang="zh-CN">' in html
    assert "  入选标准（" in text and "  排除标准（" in text and "（北京时间）" in text and " UTC" not in text
    assert payload["contact"]["medicines"] == CONTACT.medicines


def test_a_vague_answer_is_not_called_not_asked(catalog):
    screening = Screening(respondent="self")
    screening.record({"condition": "sle"}, "lupus")
    screening.record({"age": 30}, "30")
    screening.record({"live_vaccine": True}, "yes")
    screening.record({"live_vaccine_when": DaysAgo(14, 60)}, "a few weeks ago")  # 4 weeks is inside the range
    context, _, text = rendered(catalog, ADULT_TRIAL, screening, Contact(name="A"))
    [vaccine] = [i for i in context["to_verify"]["exclusion"] if i["id"] == "exc-live-vaccine"]
    assert (vaccine["status"], vaccine["status_label"]) == ("unclear", "answer not precise")
    assert vaccine["open"] == ["When the live vaccine was"]
    assert "[answer not precise] Received live vaccine treatment within 4 weeks" in text
