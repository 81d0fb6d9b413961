"""The fact bank in Simplified Chinese: every patient-facing text has its `_zh` version, the
translation keeps the English question's clarifications, and patients' Chinese words name
checklist items and options (issue 15)."""
import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from prescreen.i18n import using
from prescreen.screening.answers import parse_answer, parse_group_answer
from prescreen.screening.factbank import FACT_TEXTS, GROUP_TEXTS, OPTION_TEXTS, load_fact_bank, missing_translations

FACTS_FILE = Path(__file__).resolve().parent.parent / "trials" / "facts.yml"
RAW = yaml.safe_load(FACTS_FILE.read_text(encoding="utf-8"))
FACTS = {f["id"]: f for f in RAW["facts"]}
GROUPS = {g["id"]: g for g in RAW["groups"]}
CHINESE = re.compile(r"[\u3400-\u9fff]")
TODAY = date(2026, 12, 1)


def _texts():
    """(where, English, Chinese) for every patient-facing text of the bank."""
    for fact in RAW["facts"]:
        for field in (*FACT_TEXTS, "sensitive"):
            if fact.get(field):
                yield f"{fact['id']}.{field}", fact[field], fact.get(f"{field}_zh")
        for option in fact.get("options") or []:
            for field in OPTION_TEXTS:
                yield f"{fact['id']}.options.{option['id']}.{field}", option[field], option.get(f"{field}_zh")
    for group in RAW["groups"]:
        for field in GROUP_TEXTS:
            yield f"groups.{group['id']}.{field}", group[field], group.get(f"{field}_zh")


TEXTS = list(_texts())


def test_every_patient_facing_text_has_a_chinese_version():
    missing = [where for where, _, zh in TEXTS if not (isinstance(zh, str) and CHINESE.search(zh))]
    assert not missing, missing
    # the loader's own list of fields agrees
    for fact in RAW["facts"]:
        assert not missing_translations(fact, (*FACT_TEXTS, "sensitive")), fact["id"]
        for option in fact.get("options") or []:
            assert not missing_translations(option, OPTION_TEXTS), (fact["id"], option["id"])
    for group in RAW["groups"]:
        assert not missing_translations(group, GROUP_TEXTS), group["id"]
    assert len(TEXTS) >= 4 * 50 + 3 * 5  # 50 facts (four texts each), their options, sensitive topics, 5 groups


def test_chinese_is_polite_and_addresses_the_right_person():
    for where, english, zh in TEXTS:
        assert "你" not in zh, f"{where}: 您, not 你"
        if where.endswith(".question_guardian") and "child" in english:
            assert "孩子" in zh, where
        if where.endswith(".question") and "child" not in english:
            assert "孩子" not in zh, where  # the patient's own question never turns to a child
        if where.endswith((".question", ".question_guardian")):
            assert zh.rstrip().endswith(("？", "。", "）")) and "？" in zh, where


@pytest.mark.parametrize("where, english, zh", TEXTS, ids=[t[0] for t in TEXTS])
def test_translation_keeps_the_numbers_and_the_does_not_count_notes(where, english, zh):
    """Time spans ("past 8 weeks", "6 to 12 months"), and "does not count" notes, survive translation."""
    assert sorted(re.findall(r"\d+", english)) == sorted(re.findall(r"\d+", zh)), where
    if re.search(r"\b(does|do) not count\b|\bnot (aspirin|rituximab|creams|nerve|steroid tablets)", english):
        assert "不算" in zh or "不包括" in zh, where
    if "past year" in english or "past 6 months" in english or "past 8 weeks" in english:
        assert "过去" in zh, where
    if re.search(r"\bnow\b|right now", english) and where.endswith(("question", "question_guardian")):
        assert "现在" in zh, where


# English names in the questions and their names in Chinese hospitals (any one of a tuple).
NAMES = {
    "rituximab": "利妥昔单抗", "belimumab": "贝利尤单抗", "telitacicept": "泰它西普", "inebilizumab": "伊奈利珠单抗",
    "tafasitamab": "坦昔妥单抗", "blinatumomab": "贝林妥欧单抗", "loncastuximab": "loncastuximab",
    "adalimumab": "阿达木单抗", "infliximab": "英夫利西单抗", "etanercept": "依那西普", "tocilizumab": "托珠单抗",
    "tofacitinib": "托法替布", "baricitinib": "巴瑞替尼", "upadacitinib": "乌帕替尼", "ibrutinib": "伊布替尼",
    "cyclophosphamide": "环磷酰胺", "bendamustine": "苯达莫司汀", "melphalan": "美法仑", "vincristine": "长春新碱",
    "warfarin": "华法林", "rivaroxaban": "利伐沙班", "apixaban": "阿哌沙班", "heparin": "肝素", "aspirin": "阿司匹林",
    "clopidogrel": "氯吡格雷", "methotrexate": "甲氨蝶呤", "car-t": "CAR-T", "ivig": ("IVIG", "丙种球蛋白"), "hiv": "HIV",
    "mmr": "麻腮风", "chickenpox": "水痘", "yellow fever": "黄热病", "nasal flu spray": "鼻喷流感疫苗",
    "dialysis": "透析", "plasma exchange": "血浆置换", "tuberculosis": "结核", "heart attack": "心梗",
    "stent": "支架", "stroke": "中风", "seizures": "癫痫", "spinal cord": "脊髓", "lupus": "狼疮",
    "transplant": "移植", "bone marrow": "骨髓", "hepatitis b": ("乙型肝炎", "乙型"), "hepatitis c": ("丙型肝炎", "丙型"),
    "anticoagulant": "抗凝药", "steroid": "激素", "live vaccine": "活疫苗",
}


@pytest.mark.parametrize("where, english, zh", TEXTS, ids=[t[0] for t in TEXTS])
def test_named_drugs_and_conditions_are_named_in_chinese_too(where, english, zh):
    for name, chinese in NAMES.items():
        if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", english, re.IGNORECASE):
            accepted = chinese if isinstance(chinese, tuple) else (chinese,)
            assert any(c in zh for c in accepted), f"{where}: {name} -> {' or '.join(accepted)}"


def test_the_suicide_question_keeps_its_gentle_lead_in():
    fact = FACTS["suicidal_thoughts"]
    for field in ("question_zh", "question_guardian_zh"):
        text = fact[field]
        assert text.startswith("下面这个问题比较私人"), field
        assert "“不确定”" in text and "过去一年" in text and "结束自己生命" in text, field


def test_the_loader_reads_each_text_in_the_conversations_language():
    facts, groups = load_fact_bank(FACTS_FILE)
    with using("zh"):
        assert str(facts["cancer"].question) == FACTS["cancer"]["question_zh"]
        assert str(facts["age"].question_guardian) == FACTS["age"]["question_guardian_zh"]
        assert str(facts["condition"].options[0].label) == "系统性红斑狼疮（SLE）"
        assert str(groups["health_history"].why) == GROUPS["health_history"]["why_zh"]
        assert str(facts["hiv"].sensitive) == FACTS["hiv"]["sensitive_zh"]
    with using("en"):
        assert str(facts["cancer"].question) == "Have you ever had cancer?"


def test_every_checklist_item_and_option_has_chinese_words_beside_the_english():
    members = {f for g in RAW["groups"] for f in g["facts"]}
    for fact in RAW["facts"]:
        keywords = fact.get("keywords") or []
        if fact["id"] in members or keywords:
            assert any(CHINESE.search(k) for k in keywords), f"{fact['id']}: no Chinese keyword"
            assert any(not CHINESE.search(k) for k in keywords), f"{fact['id']}: the English keywords must stay"
        for option in fact.get("options") or []:
            synonyms = option.get("synonyms") or []
            assert any(CHINESE.search(s) for s in synonyms), f"{fact['id']}.{option['id']}: no Chinese synonym"
            assert any(not CHINESE.search(s) for s in synonyms), f"{fact['id']}.{option['id']}: English synonyms must stay"


@pytest.fixture(scope="module")
def bank():
    return load_fact_bank(FACTS_FILE)


@pytest.mark.parametrize("group, text, named", [
    ("health_history", "十年前得过乳腺癌", {"cancer"}),
    ("health_history", "在吃华法林", {"blood_thinner"}),
    ("health_history", "我有乙肝，小三阳", {"hepatitis"}),
    ("health_history", "HIV感染", {"hiv"}),  # not also "an infection now"
    ("health_history", "有潜伏结核感染", {"tuberculosis"}),
    ("health_history", "肺炎在吃抗生素", {"active_infection"}),
    ("health_history", "心梗后放了支架", {"heart_attack", "heart_stent"}),
    ("health_history", "两个月前脑梗", {"brain_condition"}),
    ("treatments", "用过两次美罗华", {"b_cell_therapy"}),
    ("treatments", "利妥昔和丙球", {"b_cell_therapy", "ivig"}),
    ("treatments", "上个月住院打过激素冲击", {"steroid_injection"}),
    ("treatments", "环磷酰胺冲击", {"chemo_drug"}),  # a cyclophosphamide pulse is not a steroid
    ("treatments", "2021年透析过几个月", {"dialysis"}),
    ("cell_therapies_and_transplants", "做过CAR-T细胞治疗", {"prior_car_t"}),
    ("cell_therapies_and_transplants", "做过干细胞移植", {"transplant"}),
    ("cell_therapies_and_transplants", "用过倍利妥", {"prior_cd19_therapy"}),  # blinatumomab; 倍林达 is a heart drug
    ("recent_events", "计划下个月做手术", {"surgery_planned"}),  # planned, not a past operation
    ("recent_events", "上个月做了手术", {"major_surgery"}),
    ("recent_events", "我现在在参加另一个临床试验", {"clinical_trial"}),
    ("pregnancy", "在喂奶", {"breastfeeding"}),
])
def test_chinese_words_name_checklist_items(bank, group, text, named):
    facts, groups = bank
    with using("zh"):
        answer = parse_group_answer(groups[group], [facts[f] for f in groups[group].facts], text)
    assert {f for f, v in answer.items() if v is True} == named


@pytest.mark.parametrize("text", ["只吃激素片", "上个月断奶了"])
def test_words_that_only_look_alike_name_nothing(bank, text):
    """Steroid tablets are not a steroid injection; weaning is not breastfeeding."""
    facts, groups = bank
    group = "treatments" if "激素" in text else "pregnancy"
    with using("zh"):
        try:
            answer = parse_group_answer(groups[group], [facts[f] for f in groups[group].facts], text)
        except Exception:  # asked again: fine, as long as nothing is recorded as yes
            return
    assert True not in answer.values()


@pytest.mark.parametrize("fact, text, option", [
    ("condition", "系统性红斑狼疮", "sle"), ("condition", "狼疮肾炎", "sle"), ("condition", "干燥综合征", "sjogren"),
    ("condition", "硬皮病", "systemic_sclerosis"), ("condition", "皮肌炎", "myositis"),
    ("condition", "ANCA相关性血管炎", "anca_vasculitis"), ("condition", "抗磷脂综合征", "aps"),
    ("condition", "类风湿关节炎", "other"),
    ("sex", "女", "female"), ("sex", "女儿", "female"), ("sex", "男孩", "male"),
    ("cancer_kind", "皮肤癌，基底细胞", "skin_basal"), ("cancer_kind", "乳腺导管原位癌", "breast_in_situ"),
    ("cancer_kind", "乳腺癌", "breast"), ("cancer_kind", "宫颈原位癌", "cervix_in_situ"),
    ("cancer_kind", "非霍奇金淋巴瘤", "lymphoma"), ("cancer_kind", "多发性骨髓瘤", "blood_other"),
    ("cancer_kind", "肺腺癌", "other"), ("cancer_kind", "甲状腺癌", "other"),
])
def test_chinese_words_name_options(bank, fact, text, option):
    facts, _ = bank
    with using("zh"):
        assert parse_answer(facts[fact], text, TODAY) == option
