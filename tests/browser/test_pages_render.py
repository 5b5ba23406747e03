"""The email-link pages in headless Chromium with JavaScript off, served by a throwaway app.

The app here is not the real one: it only wires chalicelib.accounts.pages to routes so the
browser can load the pages, fill the forms and submit them for real.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from chalice import Chalice, Response
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from chalicelib.accounts.pages import (
    PAGE_HEADERS,
    activate_done_page,
    activate_page,
    link_problem_page,
    reset_done_page,
    reset_page,
)

FORM = "application/x-www-form-urlencoded"
# Quotes and angle brackets prove the hidden field escapes and round-trips its value.
TOKEN = 'demo-token_"<&>'
NEW_PASSWORD = "Sunrise-ساحل-2026"  # Arabic letters too: the form must post UTF-8 intact


def pages_demo_app(received: list[dict[str, str]]) -> Chalice:
    """A minimal app serving the pages; every form it receives is appended to `received`."""
    demo = Chalice(app_name="pages-demo")

    def html(body: str, status: int = 200) -> Response:
        return Response(body=body, status_code=status, headers=PAGE_HEADERS)

    def form() -> dict[str, str]:
        raw = (demo.current_request.raw_body or b"").decode("utf-8")
        fields = {key: values[0] for key, values in parse_qs(raw, keep_blank_values=True).items()}
        received.append(fields)
        return fields

    @demo.route("/reset-password", methods=["GET"])
    def show_reset() -> Response:
        return html(reset_page(TOKEN))

    @demo.route("/reset-password", methods=["POST"], content_types=[FORM])
    def submit_reset() -> Response:
        fields = form()
        if fields.get("token") != TOKEN:
            return html(link_problem_page("reset", "invalid"), 400)
        if fields.get("new_password") != fields.get("confirm_password"):
            mismatch = ("The two passwords are not the same.", "كلمتا المرور غير متطابقتين.")
            return html(reset_page(fields["token"], {"confirm_password": mismatch}), 400)
        return html(reset_done_page())

    @demo.route("/activate", methods=["GET"])
    def show_activate() -> Response:
        return html(activate_page(TOKEN))

    @demo.route("/activate", methods=["POST"], content_types=[FORM])
    def submit_activate() -> Response:
        if form().get("token") != TOKEN:
            return html(link_problem_page("activation", "invalid"), 400)
        return html(activate_done_page("a***@example.com"))

    @demo.route("/expired-activation", methods=["GET"])
    def expired_activation() -> Response:
        return html(link_problem_page("activation", "expired"), 410)

    @demo.route("/js-probe", methods=["GET"])
    def js_probe() -> Response:
        # No CSP here: only the browser profile may stop this script.
        page = ('<!DOCTYPE html><html><body><p id="state">script did not run</p>'
                '<script>document.getElementById("state").textContent = "script ran"</script>'
                '<noscript><p id="noscript">JavaScript is off</p></noscript></body></html>')
        return Response(body=page, headers={"Content-Type": "text/html; charset=utf-8"})

    return demo


@pytest.fixture
def received() -> list[dict[str, str]]:
    return []


@pytest.fixture
def app(received: list[dict[str, str]]) -> Chalice:
    """Overrides the real app: live_server serves the demo app instead."""
    return pages_demo_app(received)


def open_page(browser: Any, url: str) -> None:
    browser.get(url)
    WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.TAG_NAME, "main")))


def submit(browser: Any) -> None:
    """Clicks the form's button and waits for the next page to replace this one."""
    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    # Mid-navigation chromedriver may answer "node does not belong to the document" rather
    # than "stale element": both mean the old page is going, so poll on through them.
    wait = WebDriverWait(browser, 10, ignored_exceptions=(WebDriverException,))
    wait.until(ec.staleness_of(page))
    wait.until(ec.presence_of_element_located((By.TAG_NAME, "main")))


def section(browser: Any, lang: str) -> Any:
    return browser.find_element(By.CSS_SELECTOR, f'section[lang="{lang}"]')


def test_the_browser_runs_with_javascript_off(browser, live_server):
    browser.get(f"{live_server}/js-probe")

    assert browser.find_element(By.ID, "state").text == "script did not run"
    assert browser.find_element(By.ID, "noscript").is_displayed()


def test_reset_page_shows_arabic_right_to_left_and_english_left_to_right(browser, live_server):
    open_page(browser, f"{live_server}/reset-password?token=abc")

    arabic, english = section(browser, "ar"), section(browser, "en")
    assert arabic.is_displayed() and english.is_displayed()
    assert arabic.value_of_css_property("direction") == "rtl"
    assert english.value_of_css_property("direction") == "ltr"
    assert arabic.find_element(By.TAG_NAME, "h1").text == "اختر كلمة مرور جديدة"
    assert english.find_element(By.TAG_NAME, "h1").text == "Choose a new password"
    assert "last 5 passwords" in english.text and "8 to 128 characters" in english.text
    assert "19097" in arabic.text and "19097" in english.text
    assert "HR" in english.text
    new_password = browser.find_element(By.ID, "new_password")
    assert new_password.get_attribute("type") == "password"
    assert new_password.get_attribute("autocomplete") == "new-password"
    label = browser.find_element(By.CSS_SELECTOR, 'label[for="new_password"]')
    assert "New password" in label.text and "كلمة المرور الجديدة" in label.text


def test_reset_form_posts_the_token_and_passwords_without_javascript(browser, live_server, received):
    open_page(browser, f"{live_server}/reset-password?token=abc")

    browser.find_element(By.ID, "new_password").send_keys(NEW_PASSWORD)
    browser.find_element(By.ID, "confirm_password").send_keys(NEW_PASSWORD)
    submit(browser)

    assert received == [{"token": TOKEN, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}]
    assert section(browser, "en").find_element(By.TAG_NAME, "h1").text == "Your password was changed"
    assert "every other device" in section(browser, "en").text
    assert section(browser, "ar").value_of_css_property("direction") == "rtl"
    assert browser.current_url == f"{live_server}/reset-password"  # the token left the address bar


def test_a_refused_password_comes_back_with_the_reason_next_to_the_field(browser, live_server, received):
    open_page(browser, f"{live_server}/reset-password?token=abc")

    browser.find_element(By.ID, "new_password").send_keys(NEW_PASSWORD)
    browser.find_element(By.ID, "confirm_password").send_keys(NEW_PASSWORD + "!")
    submit(browser)

    confirm = browser.find_element(By.ID, "confirm_password")
    error = browser.find_element(By.ID, "confirm_password-error")
    assert confirm.get_attribute("aria-invalid") == "true"
    assert "confirm_password-error" in confirm.get_attribute("aria-describedby")
    assert "The two passwords are not the same." in error.text
    assert "كلمتا المرور غير متطابقتين." in error.text
    assert confirm.get_attribute("value") == ""  # a password is never sent back in a page
    assert browser.find_element(By.NAME, "token").get_attribute("value") == TOKEN

    browser.find_element(By.ID, "new_password").send_keys(NEW_PASSWORD)
    browser.find_element(By.ID, "confirm_password").send_keys(NEW_PASSWORD)
    submit(browser)

    assert len(received) == 2 and received[1]["token"] == TOKEN
    assert section(browser, "en").find_element(By.TAG_NAME, "h1").text == "Your password was changed"


def test_activation_page_confirms_and_says_where_the_password_went(browser, live_server, received):
    open_page(browser, f"{live_server}/activate?token=abc")
    assert "7 days" in section(browser, "en").text

    submit(browser)

    assert received == [{"token": TOKEN}]
    english, arabic = section(browser, "en").text, section(browser, "ar").text
    assert "a***@example.com" in english and "a***@example.com" in arabic
    assert "choose a new password" in english


def test_an_expired_link_points_to_forgot_password_in_both_languages(browser, live_server):
    open_page(browser, f"{live_server}/expired-activation")

    english, arabic = section(browser, "en").text, section(browser, "ar").text
    assert "expired" in english and "Forgot password" in english and "19097" in english
    assert "انتهت صلاحية" in arabic and "نسيت كلمة المرور" in arabic
    assert section(browser, "ar").value_of_css_property("direction") == "rtl"


def test_pages_forbid_caching_and_referrers(live_server):
    answer = requests.get(f"{live_server}/reset-password", params={"token": "abc"}, timeout=5)

    assert answer.status_code == 200
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    assert "<script" not in answer.text
