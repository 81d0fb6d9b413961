"""The trial files in Simplified Chinese (issue 15): every text a patient or a site team reads
(short title, summary, age note, conditions, each criterion's plain reason, each site's name,
short name and city) has its `_zh` version, read in the conversation's language; English is
unchanged outside `i18n.using("zh")`."""
import re

import jinja2
import pytest
import yaml

from prescreen import i18n
from prescreen.screening.check import card_warnings
from prescreen.screening.trials import CRITERION_TEXTS, SITE_TEXTS, TRIAL_TEXTS, personal

from conftest import TRIAL_FILES

CHINESE = re.compile(r"[\u3400-\u9fff]")
RESPONDENTS = ("self", "guardian", "helper")
RAW = {path.name: yaml.safe_load(path.read_text(encoding="utf-8")) for path in TRIAL_FILES}
ids = [p.stem for p in TRIAL_FILES]


def _raw_texts():
    """(where, English, Chinese) for every patient-facing text of every trial file, as written."""
    for name, raw in RAW.items():
        for field in TRIAL_TEXTS:
            if raw.get(field):
                yield f"{name}: {field}", raw[field], raw.get(f"{field}_zh")
        for english, chinese in zip(raw["conditions"], raw.get("conditions_zh") or [None] * len(raw["conditions"])):
            yield f"{name}: conditions", english, chinese
        for site in raw["sites"]:
            for field in SITE_TEXTS:
                if site.get(field):
                    yield f"{name}: {site['id']}: {field}", site[field], site.get(f"{field}_zh")
        for criterion in raw["criteria"]:
            for field in CRITERION_TEXTS:
                if criterion.get(field):
                    yield f"{name}: {criterion['id']}: {field}", criterion[field], criterion.get(f"{field}_zh")


TEXTS = list(_raw_texts())


def test_every_patient_facing_text_of_every_trial_has_a_chinese_version():
    missing = [where for where, _, zh in TEXTS if not (isinstance(zh, str) and CHINESE.search(zh))]
    assert not missing, missing
    # 5 trials: short title and summary each, 57 plain reasons, 5 sites of 3 texts, 2 age notes, 10 conditions
    assert len(TEXTS) >= 5 * 2 + 57 + 5 * 3 + 2 + 10


# Official names as the hospitals write them, and their usual short names.
HOSPITALS = {
    "wuhan-union": ("华中科技大学同济医学院附属协和医院", "协和医院", "武汉"),
    "hangzhou-zju-childrens": ("浙江大学医学院附属儿童医院", "浙大儿童医院", "杭州"),
    "hangzhou-zju-second": ("浙江大学医学院附属第二医院", "浙大二院", "杭州"),
    "nanjing-drum-tower": ("南京大学医学院附属鼓楼医院", "鼓楼医院", "南京"),
    "wenzhou-first": ("温州医科大学附属第一医院", "温医大附一院", "温州"),
}


def test_sites_read_their_chinese_names_in_chinese_and_english_names_outside(catalog):
    sites = {site.id: site for trial in catalog.trials for site in trial.sites}
    assert set(sites) == set(HOSPITALS)
    raw_sites = {site["id"]: site for raw in RAW.values() for site in raw["sites"]}
    for site_id, (name, short_name, city) in HOSPITALS.items():
        site = sites[site_id]
        with i18n.using("zh"):
            assert (str(site.name), str(site.label), str(site.city)) == (name, short_name, city)
            assert f"{site.label}，{site.city}" == f"{short_name}，{city}"
        raw = raw_sites[site_id]
        assert (str(site.name), str(site.label), str(site.city)) == (raw["name"], raw["short_name"], raw["city"])
        assert not CHINESE.search(f"{site.name} {site.label} {site.city}")


@pytest.mark.parametrize("path", TRIAL_FILES, ids=ids)
def test_a_trials_texts_read_in_chinese_inside_using_zh_and_in_english_outside(path, catalog):
    trial = next(t for t in catalog.trials if t.file == path.name)
    raw = RAW[path.name]
    summary = " ".join(raw["plain_summary"].split())
    plains = {c["id"]: c for c in raw["criteria"] if c.get("plain")}

    # English, as before: the file's words, {you}/{your} said for who answers.
    assert str(trial.short_title) == raw["short_title"]
    assert str(trial.plain_summary) == personal(summary)
    for respondent in RESPONDENTS:
        assert trial.summary_for(respondent) == personal(summary, respondent)
        assert not CHINESE.search(str(trial.summary_for(respondent)))
    assert [str(c) for c in trial.conditions] == raw["conditions"]
    for criterion in trial.criteria:
        if criterion.id in plains:
            assert str(criterion.plain) == personal(plains[criterion.id]["plain"])
            assert str(criterion.plain_for("guardian")) == personal(plains[criterion.id]["plain"], "guardian")
        else:
            assert criterion.plain is None

    with i18n.using("zh"):
        assert str(trial.short_title) == raw["short_title_zh"]
        assert CHINESE.search(str(trial.short_title))
        for respondent in RESPONDENTS:
            text = str(trial.summary_for(respondent))
            assert CHINESE.search(text) and "{" not in text, (respondent, text)
            assert not re.search(r"\b(the|and|of|your|you)\b", text), text  # no English left in the Chinese
        assert [str(c) for c in trial.conditions] == raw["conditions_zh"]
        assert all(CHINESE.search(str(c)) for c in trial.conditions)
        if trial.age_note:
            assert str(trial.age_note) == raw["age_note_zh"]
        for criterion in trial.criteria:
            if criterion.id not in plains:
                continue
            for respondent in RESPONDENTS:
                text = str(criterion.plain_for(respondent))
                assert CHINESE.search(text) and "{" not in text, (criterion.id, text)
            written = plains[criterion.id]["plain_zh"]
            assert str(criterion.plain) == written.replace("{your}", "您的").replace("{you}", "您")

    # And English again after the Chinese block: the language is per turn, not a global switch.
    assert str(trial.short_title) == raw["short_title"]


def test_the_person_is_named_for_who_answers_in_chinese(catalog):
    """{your} in the Chinese summary is 您的 for the patient, 您孩子的 for a parent, 患者的 for a helper."""
    with_person = [t for t in catalog.trials if "{your}" in RAW[t.file]["plain_summary"]]
    assert len(with_person) == 4  # every CAR-T summary says whose white blood cells are collected
    for trial in with_person:
        with i18n.using("zh"):
            own, parent, helper = (str(trial.summary_for(r)) for r in RESPONDENTS)
        assert "采集您的一部分白细胞" in own, own
        assert "采集您孩子的一部分白细胞" in parent, parent
        assert "采集患者的一部分白细胞" in helper and "您" not in helper, helper
    wenzhou = catalog.trial("NCT06420154")
    with i18n.using("zh"):
        assert "在此之前，您的孩子需要接受几天化疗" in str(wenzhou.summary_for("guardian"))
    other_study = next(c for c in catalog.trial("NCT06421701").criteria if c.id == "exc-other-study")
    with i18n.using("zh"):
        assert str(other_study.plain_for("self")) == "本研究要求距离您参加其他临床研究已满 3 个月。"
        assert str(other_study.plain_for("guardian")) == "本研究要求距离您的孩子参加其他临床研究已满 3 个月。"
        assert str(other_study.plain_for("helper")) == "本研究要求距离患者参加其他临床研究已满 3 个月。"


@pytest.mark.parametrize("where, english, zh", TEXTS, ids=[t[0] for t in TEXTS])
def test_the_chinese_keeps_the_numbers_and_the_placeholders(where, english, zh):
    """The Chinese says what the English says: the same ages, weeks, months and counts, and the
    same {you}/{your}."""
    assert sorted(re.findall(r"\d+", english)) == sorted(re.findall(r"\d+", zh)), where
    assert set(re.findall(r"\{(\w+)\}", english)) <= set(re.findall(r"\{(\w+)\}", zh)), where


# English words in the plain texts and the terms Chinese hospitals use for them.
TERMS = {
    r"\blupus\b": "狼疮", r"Sjögren": "干燥综合征", r"systemic sclerosis": "系统性硬化症", r"\bmyositis\b": "肌炎",
    r"ANCA": "ANCA 相关性血管炎", r"\bAPS\b|antiphospholipid": "抗磷脂综合征", r"CAR-T": "CAR-T", r"CAR-NK": "CAR-NK",
    r"\bHIV\b": "HIV", r"dialysis": "透析", r"live vaccine": "活疫苗", r"tuberculosis": "结核", r"transplant": "移植",
    r"pregnant": "怀孕", r"breastfeeding": "哺乳", r"cancer": "癌", r"infection": "感染",
    r"rituximab": "利妥昔单抗", r"belimumab": "贝利尤单抗", r"inebilizumab": "伊奈利珠单抗",
    r"adalimumab": "阿达木单抗", r"tocilizumab": "托珠单抗", r"cyclophosphamide": "环磷酰胺",
    r"fludarabine": "氟达拉滨", r"plasma exchange": "血浆置换", r"steroid": "激素", r"B cells": "B 细胞",
    r"heart attack": "心梗", r"chemotherapy": "化疗", r"anticoagulant": "抗凝药", r"consent": "知情同意",
    r"\bIVIG\b": "丙种球蛋白", r"\bJAK\b": "JAK", r"\bBTK\b": "BTK", r"autoimmune": "自身免疫病",
    r"white blood cells": "白细胞", r"children's hospital": "儿童医院", r"screening": "筛选",
}


@pytest.mark.parametrize("where, english, zh", TEXTS, ids=[t[0] for t in TEXTS])
def test_the_chinese_uses_the_hospitals_terms_and_addresses_the_patient_politely(where, english, zh):
    for pattern, term in TERMS.items():
        if re.search(pattern, english, re.IGNORECASE):
            assert term in zh, f"{where}: {pattern!r} should read {term}"
    assert "你" not in zh, f"{where}: 您, not 你"
    assert not re.search(r"符合条件|有资格|您符合", zh), f"{where}: a study may be a match; the team decides"
    if re.search(r"\bdoes not take\b", english):
        assert "不接受" in zh, where
    if re.search(r"\bdoes not count\b", english):
        assert "不算" in zh, where


def test_chinese_short_names_fit_a_card_and_the_check_has_no_warning_for_them(catalog):
    for trial in catalog.trials:
        for site in trial.sites:
            assert len(site.short_name.resolve("zh")) <= 12
    assert card_warnings(catalog) == []


def test_the_staff_and_patient_templates_render_the_chinese_names():
    """Jinja (autoescaped, as the site summary and the patient page are) reads the conversation's language."""
    from prescreen.screening.trials import load_catalog

    from conftest import TRIALS_DIR

    trial = load_catalog(TRIALS_DIR).trial("cd19-bcma-car-t-sle-wuhan")
    template = jinja2.Environment(autoescape=True).from_string(
        "{{ t.short_title }} / {{ t.sites[0].name }}, {{ t.sites[0].city }} / {{ t.conditions | join(', ') }}")
    with i18n.using("zh"):
        assert template.render(t=trial) == ("CD19/BCMA CAR-T 细胞治疗狼疮，18 到 70 岁成人（武汉） / "
                                            "华中科技大学同济医学院附属协和医院, 武汉 / 系统性红斑狼疮")
    assert template.render(t=trial) == ("CD19/BCMA CAR-T cells for lupus, adults 18 to 70 (Wuhan) / Union Hospital, "
                                        "Tongji Medical College, Huazhong University of Science and Technology, Wuhan / "
                                        "Systemic lupus erythematosus")
    with i18n.using("zh"):
        assert i18n.plain({"title": trial.short_title}) == {"title": "CD19/BCMA CAR-T 细胞治疗狼疮，18 到 70 岁成人（武汉）"}
