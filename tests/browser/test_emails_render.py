"""Every email's HTML in headless Chromium at a phone's width (375 px) and a desktop's (1280 px).

Each email kind is rendered in each language it goes out in (both together for HR-enrolled people and
receipts; Arabic alone and English alone for a resident who chose one), opened from a file (no server:
an email has no origin), screenshotted, and checked: the Arabic block reads right to left, nothing is
wider than the viewport, the temporary password shows whole in its box, and names from HR files stay
text. The screenshots land in one folder of the run's tmp dir, printed at the end (`pytest -s`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from chalicelib.errors import Text
from chalicelib.platform import messages
from chalicelib.platform.messages import Message
from chalicelib.premiums import messages as receipts

PHONE, DESKTOP = 375, 1280
PASSWORD = "Tq7#mW2x-Lp9v"
# Angle brackets and an ampersand in a name from an HR file: shown as typed, never as markup.
NAME, NAME_AR = "Omar <b>Al-Khaled</b> & Sons", "عمر الخالد"
# Long unbroken strings are what push an email wider than a phone.
LONG_EMAIL = "omar.abdulrahman.al-khaled.finance-department@acme-trading-and-contracting.example"
LINK = "https://api.example.com/activate?token=" + "a1B2c3D4e5" * 9
RESET = "https://api.example.com/reset-password?token=" + "Zx9Yw8Vu7T" * 5


def _facts(**extra: Any) -> receipts.ReceiptFacts:
    return receipts.ReceiptFacts(
        payment_id="pay_01HZX3K9Q2M7", insured_name="Sara Ahmed", insured_civil_id="290010112345",
        category=Text("Commercial residence", "إقامة تجارية"), period_start=date(2026, 12, 2),
        period_last_day=date(2027, 12, 1), amount_fils=50_000, at=datetime(2026, 12, 2, 9, 30, tzinfo=UTC),
        transaction_id="TXN-778812", **extra)


# kind -> language -> the message, built as the app builds it.
EMAILS: dict[str, Callable[[str | None], Message]] = {
    "welcome": lambda _: messages.welcome_email(LONG_EMAIL, NAME, LINK, 14, NAME_AR),
    "temporary_password": lambda _: messages.activation_password_email(LONG_EMAIL, NAME, PASSWORD, 7, NAME_AR),
    "password_reset": lambda lang: messages.reset_link_email(LONG_EMAIL, lang, RESET, 24),
    "email_changed": lambda _: messages.email_changed_email("old@acme.example", NAME, "old@acme.example",
                                                            LONG_EMAIL, NAME_AR),
    "password_expiry_reminder": lambda lang: messages.password_expiry_reminder("sara@example.com", lang, 7),
    "registration_attempt": lambda lang: messages.registration_attempt_notice("email", "sara@example.com", lang,
                                                                              "civil_id"),
    "premium_receipt": lambda _: receipts.payment_receipt_email("sara@example.com", _facts()),
    "premium_refund": lambda _: receipts.refund_receipt_email("sara@example.com",
                                                              _facts(reason="Duplicate payment")),
}
# HR-enrolled people have no language: both. Residents chose one: each alone. Receipts: always both.
LANGUAGES: dict[str, tuple[str | None, ...]] = {
    "welcome": (None,), "temporary_password": (None,), "email_changed": (None,),
    "premium_receipt": (None,), "premium_refund": (None,),
    "password_reset": (None, "ar", "en"), "password_expiry_reminder": (None, "ar", "en"),
    "registration_attempt": (None, "ar", "en"),
}
CASES = [(kind, lang) for kind in EMAILS for lang in LANGUAGES[kind]]


def test_every_email_kind_the_app_sends_is_rendered_here():
    import inspect

    built = {name for name, _ in inspect.getmembers(messages, inspect.isfunction)
             if name.endswith(("_email", "_reminder", "_notice")) and name != "render_email"}
    assert built == {"welcome_email", "activation_password_email", "reset_link_email", "email_changed_email",
                     "password_expiry_reminder", "registration_attempt_notice"}
    assert {EMAILS[kind](lang).template for kind, lang in CASES} == set(EMAILS)


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("email-screenshots")
    yield folder
    print(f"\nemail screenshots: {folder} ({len(list(folder.glob('*.png')))} files)")


def _show(browser: Any, path: Path, width: int) -> None:
    # Device metrics, not the window: headless windows have a minimum width above a phone's.
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 600})
    browser.get(path.as_uri())


def _full_page(browser: Any, out: Path, width: int) -> None:
    height = browser.execute_script("return document.scrollingElement.scrollHeight")
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": int(height), "deviceScaleFactor": 1, "mobile": width < 600})
    browser.save_screenshot(str(out))


@pytest.fixture
def email_browser(browser: Any) -> Iterator[Any]:
    yield browser
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.mark.parametrize("width", (PHONE, DESKTOP), ids=("phone", "desktop"))
@pytest.mark.parametrize(("kind", "lang"), CASES, ids=[f"{k}-{lang or 'both'}" for k, lang in CASES])
def test_each_email_reads_right_on_a_phone_and_a_desktop(email_browser, screenshots, tmp_path, kind, lang, width):
    browser = email_browser
    message = EMAILS[kind](lang)
    page = tmp_path / f"{kind}.html"
    page.write_text(message.html, encoding="utf-8")
    _show(browser, page, width)

    languages = ["ar", "en"] if lang is None else [lang]
    sections = {code: browser.find_element(By.CSS_SELECTOR, f'td.section[lang="{code}"]') for code in languages}
    assert len(browser.find_elements(By.CSS_SELECTOR, "td.section")) == len(languages)
    for code, section in sections.items():
        assert section.value_of_css_property("direction") == ("rtl" if code == "ar" else "ltr")
        assert section.is_displayed() and section.text.strip()

    viewport = browser.execute_script("return window.innerWidth")
    assert viewport == width
    assert browser.execute_script("return document.scrollingElement.scrollWidth") <= viewport
    too_wide = browser.execute_script(
        "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > "
        "window.innerWidth + 0.5 || e.getBoundingClientRect().left < -0.5).map(e => e.outerHTML.slice(0, 80))")
    assert too_wide == []

    # The brand: the insurer's name in each language and the logo drawn inline (no remote image).
    header = browser.find_element(By.CSS_SELECTOR, "td.header")
    assert "Gulf Mutual Health" in header.text or "الخليج للتأمين الصحي" in header.text
    assert browser.find_elements(By.CSS_SELECTOR, "svg") and not browser.find_elements(By.CSS_SELECTOR, "img")

    if kind == "temporary_password":
        boxes = browser.find_elements(By.CSS_SELECTOR, ".secret")
        assert len(boxes) == len(languages)
        for box in boxes:
            assert box.is_displayed() and box.text == PASSWORD
            assert box.value_of_css_property("direction") == "ltr"
            assert "monospace" in box.value_of_css_property("font-family").lower() or \
                "courier" in box.value_of_css_property("font-family").lower()
            rect = box.rect
            assert rect["x"] >= 0 and rect["x"] + rect["width"] <= viewport and rect["height"] > 30
    if kind in ("welcome", "temporary_password", "email_changed"):
        assert NAME in sections["en"].text  # as text: the markup in the HR name was escaped
        assert not browser.find_elements(By.CSS_SELECTOR, "td.section b")
        assert NAME_AR in sections["ar"].text and "Omar" not in sections["ar"].find_element(By.TAG_NAME, "h1").text

    _full_page(browser, screenshots / f"{kind}-{lang or 'both'}-{width}.png", width)


def test_a_branded_stage_shows_its_insurer_colour_and_store_links(email_browser, screenshots, tmp_path, monkeypatch):
    from chalicelib.settings import reset_settings

    for name, value in {"BRAND_INSURER_EN": "Acme Health", "BRAND_INSURER_AR": "أكمي للرعاية الصحية",
                        "BRAND_COLOUR": "#6a1b4d", "BRAND_TINT": "#f6edf2",
                        "BRAND_APP_STORE_URL": "https://apps.apple.com/kw/app/acme-health/id123456789",
                        "BRAND_PLAY_STORE_URL": "https://play.google.com/store/apps/details?id=com.acme.health"}.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    try:
        message = messages.activation_password_email(LONG_EMAIL, NAME, PASSWORD, 7, NAME_AR)
    finally:
        monkeypatch.undo()
        reset_settings()
    page = tmp_path / "branded.html"
    page.write_text(message.html, encoding="utf-8")
    _show(email_browser, page, PHONE)

    stores = {a.get_attribute("href") for a in email_browser.find_elements(By.CSS_SELECTOR, "td.section a")}
    assert stores == {"https://apps.apple.com/kw/app/acme-health/id123456789",
                      "https://play.google.com/store/apps/details?id=com.acme.health"}
    header = email_browser.find_element(By.CSS_SELECTOR, "td.header")
    assert "Acme Health" in header.text and "أكمي للرعاية الصحية" in header.text
    assert header.value_of_css_property("background-color") == "rgba(106, 27, 77, 1)"
    assert email_browser.execute_script("return document.scrollingElement.scrollWidth") <= PHONE
    _full_page(email_browser, screenshots / "temporary_password-branded-375.png", PHONE)
