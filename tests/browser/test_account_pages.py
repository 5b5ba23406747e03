"""The real welcome and reset pages of the app, opened from the emails in headless Chromium (no JavaScript)."""

from __future__ import annotations

from typing import Any

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

NEW_PASSWORD = "Harbour-ساحل-Light-26"


def open_link(browser: Any, live_server: str, link: str) -> None:
    # The email carries the public URL; the same path and token are served here.
    path = link.split("://", 1)[1].split("/", 1)[1]
    browser.get(f"{live_server}/{path}")
    WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.TAG_NAME, "main")))


def submit_and_wait(browser: Any) -> None:
    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 10, ignored_exceptions=(WebDriverException,)).until(ec.staleness_of(page))
    WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.TAG_NAME, "main")))


def heading(browser: Any, lang: str) -> str:
    return browser.find_element(By.CSS_SELECTOR, f'section[lang="{lang}"] h1').text


def invited(outbox) -> str:
    from chalicelib.accounts.passwords import invite
    from chalicelib.accounts.wiring import auth_deps

    invite(auth_deps(), email="layla@acme.example", name="Layla Hassan")
    return outbox.last(to="layla@acme.example", template="welcome")["links"][0]


def test_a_welcome_link_opens_the_activation_page_and_confirming_emails_a_temporary_password(
        browser, live_server, outbox):
    open_link(browser, live_server, invited(outbox))
    assert heading(browser, "ar") and heading(browser, "en") == "Activate your account"
    assert browser.find_element(By.CSS_SELECTOR, 'section[lang="ar"]').value_of_css_property("direction") == "rtl"

    submit_and_wait(browser)

    assert "l***@acme.example" in browser.page_source
    assert outbox.last(to="layla@acme.example", template="temporary_password")["vars"]["password"]


def test_a_used_welcome_link_points_to_forgot_password(browser, live_server, outbox):
    link = invited(outbox)
    open_link(browser, live_server, link)
    submit_and_wait(browser)

    open_link(browser, live_server, link)
    assert "Forgot password" in browser.page_source and "19097" in browser.page_source


def test_a_reset_link_lets_a_person_choose_a_password_in_the_browser_and_log_in_with_it(
        browser, live_server, outbox):
    from chalicelib.accounts import passwords, sessions
    from chalicelib.accounts.wiring import auth_deps

    invited(outbox)
    passwords.forgot_password(auth_deps(), "LAYLA@acme.example")
    link = outbox.last(to="layla@acme.example", template="password_reset")["links"][0]

    open_link(browser, live_server, link)
    browser.find_element(By.ID, "new_password").send_keys(NEW_PASSWORD)
    browser.find_element(By.ID, "confirm_password").send_keys(NEW_PASSWORD)
    submit_and_wait(browser)

    assert heading(browser, "en") == "Your password was changed"
    assert "token" not in browser.current_url
    tokens = sessions.login(auth_deps(), "layla@acme.example", NEW_PASSWORD, "web", "web")
    assert tokens.access_token
