"""The staff side in Chinese (issue 15): the site's summary in the site's language, and the staff
pages served by the real web process in Chinese for a Chinese site, with the switch to English.

Every site reads Chinese (`language: zh` in trials/*.yml). What the patient typed stays as typed;
the listing's own criterion texts (English in the registry) are shown as listed."""
import csv
import html
import io
import re
from dataclasses import replace
from datetime import datetime, timezone

import pytest
import requests

from prescreen import i18n
from prescreen.referral.summary import Consent, Contact, ago, render_summary, summary_context
from prescreen.screening.conversation import Screening
from prescreen.screening.durations import DaysAgo
from prescreen.screening.eligibility import evaluate_trial
from test_staff_web import PASSWORD, RICH_MEDICINES, RICH_NAME, csrf, profile_of, row_of, text_of
from test_staff_web import web  # noqa: F401 - the running web process with its data

CHILD_TRIAL, ADULT_TRIAL = "cd19-car-t-sle-children-hangzhou", "NCT06421701"
ACCEPTED = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)  # 18:00 in Hangzhou
CHINESE_TITLE = "儿童狼疮 CAR-T 研究（杭州）"
CONTACT = Contact(name="王芳", phone="138 0013 8000", preferred_time="晚上7点以后", language="普通话",
                  medicines="泼尼松 5mg，羟氯喹 200mg")
LANGUAGE_COOKIE = "prescreen_staff_language"
CJK = re.compile(r"[\u4e00-\u9fff]")


def child_screening() -> Screening:
    s = Screening(respondent="guardian")
    s.record({"condition": "sle"}, "红斑狼疮")
    s.record({"diagnosis_when": DaysAgo.exactly(730)}, "两年前")
    s.record({"age": 9}, "九岁")
    s.record({"sex": "female"}, "女孩")
    s.record({"hiv": "not_sure"}, "不知道")
    s.record({"prior_car_t": False}, "没有")
    return s


def summary(catalog, language=None, trial_id=CHILD_TRIAL, screening=None, consent_language="zh"):
    """(context, html, text) of the summary for the trial's first site, with a Chinese short title."""
    trial = catalog.trial(trial_id)
    trial = replace(trial, short_title=i18n.DataText(str.__str__(trial.short_title), {"zh": CHINESE_TITLE}))
    screening = screening or child_screening()
    result = evaluate_trial(trial, screening.values(), list(catalog.facts))
    consent = Consent(version="2", text="我同意把我的回答发给研究团队。", accepted_at=ACCEPTED, conversation_id="conv",
                      language=consent_language)
    context = summary_context(catalog, trial, trial.sites[0], result, screening.answers, screening.respondent,
                              CONTACT, consent, "ref-1", ACCEPTED, language=language)
    return context, *render_summary(context)


def without_listing_texts(text: str, catalog, trial_id=CHILD_TRIAL) -> str:
    """The summary without what it quotes from the listing (criteria, official title), which is English."""
    trial = catalog.trial(trial_id)
    quoted = sorted([c.text for c in trial.criteria] + [re.sub(r"^\s*\(?\d{1,2}\s*[.、)）]\s*", "", c.text).strip()
                                                         for c in trial.criteria] + [trial.title, trial.id], key=len,
                    reverse=True)
    for part in quoted:
        text = text.replace(part, "").replace(html.escape(part), "")
    return text


# Fixed labels of the English summary: none may be left in the Chinese one.
ENGLISH_LABELS = ["Pre-screening", "PRE-SCREENING", "Site:", "This is not an eligibility decision", "Study status",
                  "recruiting", "CONTACT", "Name", "Phone", "Email", "Preferred contact time", "Language",
                  "Who answered", "Current medicines", "not given", "STILL TO VERIFY", "Still to verify", "Inclusion",
                  "Exclusion", "patient not sure", "not asked", "verify at site", "open:", "nothing open",
                  "Routine items", "CONSENT", "Consent", "Version", "accepted", "screening", "ANSWERS", "said:",
                  "recorded as", "Recorded as", "EVERY CRITERION", "Every criterion", "inclusion", "exclusion",
                  "not met", "unknown", "site to verify", "may be a match", "years", "parent of", "best time",
                  "Lupus", "Female", "not sure", "about", "ago", "(Asia/Shanghai)", "Chinese"]


def test_the_summary_for_a_chinese_site_is_in_chinese(catalog):
    assert catalog.trial(CHILD_TRIAL).sites[0].language == "zh"
    context, page, text = summary(catalog)  # no language given: the site's own
    assert context["language"] == "zh" and page.startswith('<!doctype html>\n<html lang="zh-CN">')
    lines = text.splitlines()
    assert lines[0] == "预筛查摘要" and lines[3] == CHINESE_TITLE
    assert lines[1] == ("9岁 · 女 · 系统性红斑狼疮（SLE） · 9岁孩子的家长 · 普通话 · 方便联系的时间：晚上7点以后 · "
                        f"{CHINESE_TITLE} · 可能适合")
    assert "预筛查结果：可能适合。这不是能否入组的结论，由研究团队决定。" in text and "研究状态：正在招募。" in text
    assert "  回答者：家长或监护人（关于其孩子）" in text
    assert "  入选标准（" in text and "  排除标准（" in text and "常规项目（知情同意、依从性、研究者判断）：2" in text
    exclusions = text[text.index("  排除标准（"):text.index("常规项目")]
    assert "- [患者不确定]" in exclusions and "（待确认：HIV（曾经检测阳性））" in exclusions
    assert "原话：两年前（记录为 约2年前）" in text and "原话：不知道（记录为 不确定）" in text
    assert "原话：没有（记录为 否）" in text and "原话：女孩（记录为 女）" in text
    assert "[符合] (入选)" in text and "[不符合] (排除)" in text
    assert f"<title>预筛查摘要：{CHINESE_TITLE}</title>" in page and f"<strong>{CHINESE_TITLE}</strong>" in page
    assert "<h2>需在研究中心核实</h2>" in page and "<th>目前用药（患者原话）</th>" in page


def test_the_chinese_summary_keeps_the_patients_words_and_uses_the_sites_time(catalog):
    _, page, text = summary(catalog)
    # What the patient typed, exactly as typed: the name, phone, best time, language, medicines, answers.
    for typed in (CONTACT.name, CONTACT.phone, CONTACT.preferred_time, CONTACT.medicines, "红斑狼疮", "九岁"):
        assert typed in text and typed in page, typed
    assert f"  姓名：{CONTACT.name}\n" in text and f"<td>{CONTACT.medicines}</td>" in page
    assert '"我同意把我的回答发给研究团队。"' in text
    # 10:00 UTC is 18:00 in Hangzhou, written the Chinese way.
    assert "版本 2（中文），同意时间 2026年11月23日 18:00（北京时间）（筛查编号 ref-1）" in text
    assert "同意时间 2026年11月23日 18:00（北京时间）" in page
    assert text.rstrip().endswith("筛查编号 ref-1，2026年11月23日 18:00（北京时间）。")
    assert "UTC" not in text and "10:00" not in text


def test_no_english_label_is_left_in_the_chinese_summary(catalog):
    _, page, text = summary(catalog)
    for rendered in (without_listing_texts(text, catalog), without_listing_texts(visible(page), catalog)):
        left = [label for label in ENGLISH_LABELS if label in rendered]
        assert not left, left
    # What English words remain are names of things: the site's city, the SLE and HIV abbreviations, CAR-T.
    words = set(re.findall(r"[A-Za-z]{3,}", without_listing_texts(text, catalog)))
    assert words <= {"SLE", "HIV", "CAR", "ref"}, words  # "ref-1": the screening's reference


def test_english_stays_available(catalog):
    _, page, text = summary(catalog, language="en", consent_language=None)
    assert text.startswith("PRE-SCREENING SUMMARY\n") and page.startswith('<!doctype html>\n<html lang="en">')
    assert "Pre-screening result: may be a match." in text and "  Name: 王芳" in text
    assert "accepted 2026-11-23 18:00 (Asia/Shanghai)" in text and "(recorded as about 2 years ago)" in text
    assert CHINESE_TITLE not in text and "CAR-T cells for lupus at a children's hospital" in text
    for label in ("预筛查", "可能适合", "北京时间", "联系方式", "患者不确定", "入选", "记录为"):
        assert label not in text and label not in page, label


def test_a_waiting_period_reads_in_chinese(catalog):
    s = Screening(respondent="self")
    s.record({"condition": "sle"}, "狼疮")
    s.record({"age": 34}, "34岁")
    s.record({"live_vaccine": True}, "打过")
    s.record({"live_vaccine_when": DaysAgo.exactly(14)}, "两周前")
    context, _, text = summary(catalog, trial_id=ADULT_TRIAL, screening=s)
    if context["waiting"] is None:
        pytest.fail("this patient should wait: " + context["verdict_label"])
    assert re.search(r"等待期：约从\d{4}年\d{1,2}月\d{1,2}日起，原因：exc-live-vaccine。", text), text
    assert re.search(r"等待一段时间后可能适合（约从\d{4}年\d{1,2}月\d{1,2}日起）", context["profile"]["line"])


@pytest.mark.parametrize("low, high, words", [
    (730, 730, "约2年前"), (5, 5, "5天前"), (0, 0, "今天"), (1825, None, "约5年多以前"),
    (1826, 2190, "约5到6年前"), (90, 180, "约3到6个月前"), (0, 30, "约4周以内"), (30, 400, "约4周到约13个月前"),
])
def test_how_long_ago_in_chinese(low, high, words):
    with i18n.using("zh"):
        assert ago(low, high) == words
    with i18n.using("en"):
        assert "ago" in ago(low, high) or ago(low, high) == "today"


# ---- the staff pages, from the real web process ----

def chinese_login(web, username="anna") -> requests.Session:  # noqa: F811 - the fixture's name
    """A coordinator of a Chinese site signs in with no language chosen yet."""
    client = requests.Session()
    reply = client.post(web.web_url + "/staff/login", data={"username": username, "password": PASSWORD},
                        allow_redirects=False)
    assert reply.status_code == 302 and LANGUAGE_COOKIE not in client.cookies
    return client


def choose(client, web, language: str, next_path: str = "/staff/", origin: str | None = None):  # noqa: F811
    return client.post(web.web_url + "/staff/language", data={"language": language, "next": next_path},
                       headers={"Origin": origin or web.web_url}, allow_redirects=False)


def visible(page: str) -> str:
    return text_of(re.sub(r"<(style|script)[^>]*>.*?</\1>", "", page, flags=re.S))


STAFF_ENGLISH = ["Pre-screening handoffs", "Sign out", "Patients who asked", "All your studies", "Export CSV",
                 "Status", "Received", "Delivery", "may be a match", "years", "answered by", "best time", "Contact",
                 "Phone", "not given", "Still to verify", "Inclusion", "Exclusion", "patient not sure", "Answers",
                 "Recorded as", "Summary as sent", "Audit log", "accepted", "Change to", "Save", "New"]


def test_the_sign_in_page_is_in_the_deployments_language_or_the_browsers(web):  # noqa: F811
    page = requests.get(web.web_url + "/staff/login")
    assert page.status_code == 200 and '<html lang="zh-CN">' in page.text  # every site reads Chinese
    assert "<h1>登录</h1>" in page.text and '<label for="username">用户名</label>' in page.text
    assert 'value="en" lang="en" id="language-switch">English</button>' in page.text
    english = requests.get(web.web_url + "/staff/login", headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
    assert '<html lang="en">' in english.text and "<h1>Sign in</h1>" in english.text
    assert ">中文</button>" in english.text
    wrong = requests.post(web.web_url + "/staff/login", data={"username": "anna", "password": "not the password"})
    assert wrong.status_code == 401 and "用户名或密码错误。" in wrong.text


def test_the_staff_pages_are_in_chinese_for_a_chinese_site(web, catalog):  # noqa: F811
    client = chinese_login(web)
    listing = client.get(web.web_url + "/staff/")
    page = listing.text
    assert listing.status_code == 200 and '<html lang="zh-CN">' in page
    assert "<h1>希望被联系的患者</h1>" in page and "收到时间 <span class=\"zone\">(北京时间)</span>" in page
    title = catalog.trial(ADULT_TRIAL).short_title.resolve("zh")
    rich = row_of(page, web.ids["rich"][0])
    # "Mandarin" was a tapped choice: it reads in the page's language; "weekday mornings" was typed: as typed.
    assert profile_of(rich) == ("34岁 · 女 · 系统性红斑狼疮（SLE） · 患者本人回答 · 普通话 · 方便联系的时间："
                                f"weekday mornings · {title} · 可能适合 · 新收到")
    assert f">{RICH_NAME}</a>" in rich  # the name as typed
    assert profile_of(row_of(page, web.ids["gone"][0])) == f"患者已撤回 · {title}"
    assert re.search(r"<td>\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}</td>", rich)
    assert "新收到： <strong>" in page and "<option value=\"contacted\">已联系</option>" in page
    left = [label for label in STAFF_ENGLISH if label in visible(page)]
    assert not left, left

    detail = client.get(f"{web.web_url}/staff/handoffs/{web.ids['rich'][0]}").text
    assert '<html lang="zh-CN">' in detail and "<h2 id=\"verify-h\">待核实</h2>" in detail
    assert re.search(r'<h3 id="verify-exclusion">排除标准（\d+）</h3>', detail)
    assert '<li class="not_sure"><span class="tag">患者不确定</span>' in detail
    assert "待确认：HIV（曾经检测阳性）" in detail and f'id="medicines">{RICH_MEDICINES}<' in detail
    assert re.search(r"同意时间 \d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}（北京时间），版本 1（英语）", detail)
    assert "<td>系统性红斑狼疮（SLE）</td>" in detail and "<td>约2年前</td>" in detail and "<td>I&#39;m 34</td>" in detail
    assert 'title="预筛查摘要"' in detail and 'id="status">新收到<' in detail
    shown = without_listing_texts(visible(detail), catalog, ADULT_TRIAL)
    for typed in ("Anna Li", "two years ago", "I'm 34", "woman", "yes", "I don't know", "lupus"):  # as typed
        shown = shown.replace(typed, "")
    left = [label for label in STAFF_ENGLISH if label in shown]
    assert not left, left

    audit = client.get(f"{web.web_url}/staff/handoffs/{web.ids['rich'][0]}/audit").text
    assert "<h1>审计日志</h1>" in audit and "<th>操作人</th>" in audit and "handoff_viewed" in audit
    missing = client.get(web.web_url + "/staff/handoffs/no-such-handoff")
    assert missing.status_code == 404 and "<h1>抱歉</h1>" in missing.text and "您的研究中心没有这条转介。" in missing.text
    bad = client.get(web.web_url + "/staff/?from=yesterday")
    assert bad.status_code == 400 and "“from”须是日期" in bad.text
    expired = client.post(f"{web.web_url}/staff/handoffs/{web.ids['rich'][0]}/status", data={"status": "contacted"})
    assert expired.status_code == 403 and "此表单已过期。请返回后重试。" in expired.text


def test_a_status_change_and_the_csv_in_chinese(web):  # noqa: F811
    handoff_id = web.ids["child"][0]
    client = chinese_login(web, "zhou")
    url = f"{web.web_url}/staff/handoffs/{handoff_id}"
    refused = client.post(url + "/status", data={"status": "enrolled", "csrf": csrf(client, web, url[len(web.web_url):])})
    assert refused.status_code == 400 and "状态为“新收到”的转介不能改为“已入组”" in refused.text
    reply = client.post(url + "/status", data={"status": "contacted", "note": "已打电话，家长下周带孩子来。",
                                               "csrf": csrf(client, web, url[len(web.web_url):])},
                        allow_redirects=False)
    assert reply.status_code == 303
    page = client.get(url).text
    assert 'id="status">已联系<' in page and "已打电话，家长下周带孩子来。" in page and "<td>新收到 → 已联系</td>" in page
    raw = client.get(web.web_url + "/staff/export.csv")
    assert raw.headers["Content-Type"].startswith("text/csv") and raw.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.content.decode("utf-8-sig"))))
    headings = rows[0]
    assert headings[:3] == ["转介编号", "创建时间", "研究"] and "姓名" in headings and "性别" in headings
    row = dict(zip(headings, next(r for r in rows[1:] if r[0] == handoff_id)))
    assert (row["姓名"], row["性别"], row["疾病"], row["状态"], row["已撤回"]) == (
        "Zhou Parent", "女", "系统性红斑狼疮（SLE）", "已联系", "否")
    assert row["回答者"] == "9岁孩子的家长" and row["结果"] == "可能适合" and row["发送"] in ("等待发送", "已送达", "失败")
    assert row["备注"].endswith("zhou: 已打电话，家长下周带孩子来。")


def test_the_switch_to_english_is_remembered_and_safe(web):  # noqa: F811
    client = chinese_login(web)
    detail_path = f"/staff/handoffs/{web.ids['rich'][0]}"
    switched = choose(client, web, "en", detail_path)
    assert switched.status_code == 303 and switched.headers["Location"] == detail_path
    cookie = switched.headers["Set-Cookie"]
    assert f"{LANGUAGE_COOKIE}=en" in cookie and "Path=/staff" in cookie and "SameSite=Lax" in cookie
    assert "HttpOnly" in cookie and "Max-Age=31536000" in cookie
    assert switched.headers["X-Frame-Options"] == "DENY" and switched.headers["Cache-Control"] == "no-store"
    page = client.get(web.web_url + detail_path).text
    assert '<html lang="en">' in page and '<h2 id="verify-h">Still to verify</h2>' in page
    assert 'id="status">New<' in page and 'value="zh" lang="zh-CN" id="language-switch">中文</button>' in page
    listing = client.get(web.web_url + "/staff/").text  # remembered on every page
    assert "<h1>Patients who asked to be contacted</h1>" in listing and "may be a match" in listing
    assert client.get(web.web_url + "/staff/export.csv").text.lstrip("\ufeff").startswith("handoff_id,created_at,")
    assert "<h1>Sign in</h1>" in requests.get(web.web_url + "/staff/login", cookies={LANGUAGE_COOKIE: "en"}).text
    # Back to Chinese.
    assert choose(client, web, "zh").headers["Location"] == "/staff/"
    assert "<h1>希望被联系的患者</h1>" in client.get(web.web_url + "/staff/").text
    # Only from our own pages, only a known language, and never back to another site.
    other = choose(requests.Session(), web, "en", origin="http://evil.example")
    assert other.status_code == 403 and LANGUAGE_COOKIE not in other.headers.get("Set-Cookie", "")
    unknown = choose(requests.Session(), web, "fr")
    assert unknown.status_code == 400 and LANGUAGE_COOKIE not in unknown.headers.get("Set-Cookie", "")
    away = choose(requests.Session(), web, "en", "//evil.example/staff/")
    assert away.status_code == 303 and away.headers["Location"] == "/staff/"
    assert "frame-ancestors 'none'" in away.headers["Content-Security-Policy"]


def test_the_api_stays_in_english_for_machines(web):  # noqa: F811
    headers = {"Authorization": f"Bearer {web.tokens['hangzhou-zju-second']}"}
    listing = requests.get(web.web_url + "/api/handoffs", headers=headers).json()["handoffs"]
    rich = next(h for h in listing if h["handoff_id"] == web.ids["rich"][0])
    assert rich["profile"]["sex"] == "Female" and rich["profile"]["status"] == "New"
    assert rich["contact"]["name"] == RICH_NAME and not CJK.search(rich["profile"]["verdict"])


# ---- in a real browser ----

def test_a_chinese_coordinator_sees_the_list_in_chinese_and_switches_to_english(web):  # noqa: F811
    from browser import axe_violations, browser_page, screenshot

    with browser_page() as page:
        page.set_extra_http_headers({"Accept-Language": "zh-CN,zh;q=0.9"})
        page.goto(web.web_url + "/staff/")
        assert page.url.startswith(web.web_url + "/staff/login")
        page.get_by_label("用户名").fill("anna")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.get_by_role("heading", name="希望被联系的患者").wait_for()
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        row = page.locator("tr", has=page.get_by_role("link", name=RICH_NAME))
        line = row.locator("p.profile").inner_text()
        assert line.startswith("34岁 · 女 · 系统性红斑狼疮（SLE）") and "可能适合" in line
        assert row.locator("p.profile").bounding_box()["height"] < 60  # still one line at desktop width
        screenshot(page, "staff-list-chinese")
        page.get_by_role("button", name="English").click()
        page.get_by_role("heading", name="Patients who asked to be contacted").wait_for()
        assert page.locator("html").get_attribute("lang") == "en"
        assert "34 years · Female" in page.locator("tr", has=page.get_by_role("link", name=RICH_NAME)).inner_text()
        page.reload()
        page.get_by_role("heading", name="Patients who asked to be contacted").wait_for()  # remembered
        page.get_by_role("link", name=RICH_NAME).click()
        page.get_by_role("heading", name=RICH_NAME).wait_for()
        assert page.get_by_role("heading", name="Still to verify").is_visible()
        screenshot(page, "staff-detail-english-after-switch")
        page.get_by_role("button", name="中文").click()
        page.get_by_role("heading", name="待核实").wait_for()
        assert page.locator("html").get_attribute("lang") == "zh-CN" and web.ids["rich"][0] in page.url
        # Last (the fixture's sessions end after 4 idle seconds): the Chinese list has no serious
        # accessibility violation either.
        page.goto(web.web_url + "/staff/")
        page.get_by_role("heading", name="希望被联系的患者").wait_for()
        assert axe_violations(page, "staff-list-chinese") == []
