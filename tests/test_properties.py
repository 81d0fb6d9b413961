"""Property-based tests (hypothesis): answer parsing, rule evaluation, summary rendering.

- Parsing any text gives a value or a clear hint, never another exception.
- Unknown never excludes: forgetting answers, or turning them into "not sure", never
  turns a study that may fit into one that does not.
- Whatever a patient types, the HTML summary contains it only escaped.
"""
import re
from datetime import date, datetime, timezone

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from prescreen.screening.answers import AnswerError, NeedsDetail, parse_answer, parse_group_answer
from prescreen.screening.durations import DaysAgo
from prescreen.screening.eligibility import NOT_ELIGIBLE, evaluate_trial
from prescreen.screening.factbank import NOT_SURE
from prescreen.referral.summary import Consent, Contact, render_summary, summary_context
from prescreen.screening.trials import load_catalog

from conftest import TRIALS_DIR

CATALOG = load_catalog(TRIALS_DIR)
FACTS = CATALOG.facts
ORDER = list(FACTS)
TODAY = date(2026, 11, 23)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Typed text: any unicode, and text made of the words and numbers answers are made of.
WORDS = st.sampled_from(["yes", "no", "not sure", "none", "1", "2 and 3", "34", "thirty", "years", "months",
                         "ago", "in 2019", "last week", "lupus", "other", "choice:", "choice:days:0:30",
                         "choice:sle", "-5", "10000", "½", "一", "<b>", "\n", "  "])
TYPED = st.one_of(st.text(max_size=80), st.lists(WORDS, max_size=6).map(" ".join))


def value_for(fact):
    """Any value a fact could hold after a valid answer."""
    if fact.type == "yes_no":
        return st.booleans()
    if fact.type == "number":
        return st.integers(min_value=fact.min if fact.min is not None else 0,
                           max_value=fact.max if fact.max is not None else 200)
    if fact.type == "choice":
        return st.sampled_from(fact.option_ids())
    if fact.type == "choices":
        return st.frozensets(st.sampled_from(fact.option_ids()), min_size=1)
    return st.tuples(st.integers(0, 4000), st.integers(0, 4000)).map(
        lambda pair: DaysAgo(min(pair), max(pair)))


ANSWERS = st.fixed_dictionaries({}, optional={
    fact_id: st.one_of(value_for(fact), st.just(NOT_SURE)) for fact_id, fact in FACTS.items()})


@SETTINGS
@given(fact_id=st.sampled_from(ORDER), text=TYPED)
@example(fact_id="diagnosis_when", text="choice:days:")  # found by hypothesis: once a ValueError
@example(fact_id="diagnosis_when", text="choice:days:nan")
def test_parsing_any_text_gives_a_value_or_a_hint(fact_id, text):
    try:
        parse_answer(FACTS[fact_id], text, TODAY)
    except (AnswerError, NeedsDetail) as error:
        assert isinstance(error, NeedsDetail) or error.hint


@SETTINGS
@given(group=st.sampled_from(sorted(CATALOG.groups)), text=TYPED)
def test_parsing_any_checklist_answer_gives_values_or_a_hint(group, text):
    group = CATALOG.groups[group]
    try:
        values = parse_group_answer(group, [FACTS[f] for f in group.facts], text)
    except (AnswerError, NeedsDetail):
        return
    assert set(values) <= set(group.facts)


@SETTINGS
@given(answers=ANSWERS, data=st.data())
def test_unknown_never_excludes(answers, data):
    forgotten = data.draw(st.sets(st.sampled_from(sorted(answers)) if answers else st.nothing()))
    unsure = data.draw(st.sets(st.sampled_from(sorted(answers)) if answers else st.nothing()))
    fewer = {f: v for f, v in answers.items() if f not in forgotten}
    vaguer = {f: (NOT_SURE if f in unsure else v) for f, v in answers.items()}
    for trial in CATALOG.trials:
        full = evaluate_trial(trial, answers, ORDER)
        for partial in (fewer, vaguer):
            if evaluate_trial(trial, partial, ORDER).verdict == NOT_ELIGIBLE:
                assert full.verdict == NOT_ELIGIBLE, (trial.id, partial)
        if full.verdict == NOT_ELIGIBLE:
            assert full.failed and all(r.criterion.text for r in full.failed)  # named by its listing text


def test_no_answers_excludes_no_study():
    assert {evaluate_trial(t, {}, ORDER).verdict for t in CATALOG.trials} == {"possibly_eligible"}


def render(name, said, extra):
    trial = CATALOG.trials[0]
    result = evaluate_trial(trial, {}, ORDER)
    contact = Contact(name=name, phone=extra, email=extra, preferred_time=extra, language=extra)
    consent = Consent(version="1", text="consent", accepted_at=datetime(2026, 11, 23, tzinfo=timezone.utc),
                      conversation_id=extra)
    answers = {"age": {"value": 34, "said": said}, "condition": {"value": "sle", "said": name}}
    return render_summary(summary_context(CATALOG, trial, trial.sites[0], result, answers, "self", contact,
                                          consent, "s1", datetime(2026, 11, 23, tzinfo=timezone.utc)))


def tags(html):
    return re.findall(r"<(/?[A-Za-z][A-Za-z0-9]*)", html)


BASELINE_TAGS = tags(render("x", "x", "x")[0])


@SETTINGS
@given(name=st.text(min_size=1, max_size=60), said=st.text(max_size=80), extra=st.text(max_size=40))
def test_the_html_summary_escapes_whatever_the_patient_typed(name, said, extra):
    html, text = render(name, said, extra)
    assert tags(html) == BASELINE_TAGS  # nothing typed added, removed or changed an element
    assert str(escape(name)) in html
    assert name in text  # the text version keeps the words as they are


def test_markup_in_a_name_comes_out_as_text():
    html, _ = render('<script>alert("x")</script>', "<img src=x onerror=alert(1)>", "&lt;b&gt;")
    assert "<script>" not in html and "&lt;script&gt;" in html and "<img" not in html and "&amp;lt;b" in html
