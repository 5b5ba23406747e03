"""The providers' /verify page in headless Chromium with JavaScript off, served by the real app.

A desk pastes what its QR scanner typed, or uploads the card's PNG as the app drew it; the page must give
the same answer both ways. Screenshots at phone and desktop width go to /tmp/provider_review/ for a person
to look at (PROVIDER_REVIEW_DIR moves them).
"""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.api.cards_support import AHMAD, FATIMA, create_policy, csv_rows, enrol_family, hr_upload, stored
from tests.browser.conftest import WINDOW_SIZE

REVIEW_DIR = Path(os.environ.get("PROVIDER_REVIEW_DIR", "/tmp/provider_review"))
DESKTOP = (1280, 900)


@pytest.fixture
def family(aws, api, clock):
    create_policy()
    return enrol_family(api, AHMAD, FATIMA)


def card_png(holder, member_id: str) -> bytes:
    answer = holder.card(member_id, "png")
    assert answer.status == 200, answer.body
    return stored(answer.body["url"])[0]


def qr_text(png: bytes) -> str:
    import zxingcpp
    from PIL import Image

    (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return found.text


def open_page(browser: Any, live_server: str) -> None:
    browser.get(f"{live_server}/verify")
    WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.ID, "paste-form")))


def submit(browser: Any, form_id: str) -> None:
    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.CSS_SELECTOR, f"#{form_id} button[type=submit]").click()
    WebDriverWait(browser, 15, ignored_exceptions=(WebDriverException,)).until(ec.staleness_of(page))
    WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.ID, "paste-form")))


def paste(browser: Any, live_server: str, text: str) -> None:
    open_page(browser, live_server)
    box = browser.find_element(By.ID, "qr")
    assert browser.switch_to.active_element == box  # autofocus: a scanner types straight into it
    # A scanner types the text and presses Enter: Enter submits the form, no click needed.
    page = browser.find_element(By.TAG_NAME, "html")
    box.send_keys(text + "\n")
    WebDriverWait(browser, 15, ignored_exceptions=(WebDriverException,)).until(ec.staleness_of(page))
    WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.ID, "paste-form")))


def upload(browser: Any, live_server: str, path: Path) -> None:
    open_page(browser, live_server)
    browser.find_element(By.ID, "card_image").send_keys(str(path))
    submit(browser, "upload-form")


def verdict(browser: Any, lang: str) -> dict[str, str]:
    """What the answer says in one language: its headline, outcome and each detail shown."""
    section = browser.find_element(By.ID, f"verdict-{lang}")
    shown = {"headline": section.find_element(By.TAG_NAME, "h2").text,
             "outcome": section.get_attribute("data-outcome") or "",
             "direction": section.value_of_css_property("direction")}
    for detail in section.find_elements(By.TAG_NAME, "dd"):
        shown[detail.get_attribute("id").removesuffix(f"-{lang}")] = detail.text
    return shown


def screenshot(browser: Any, name: str) -> None:
    """The whole page at phone width (the session's window) and at desktop width, as PNG files."""
    REVIEW_DIR.mkdir(parents=True, exist_ok=True)
    try:
        for label, (width, height) in (("phone", WINDOW_SIZE), ("desktop", DESKTOP)):
            browser.set_window_size(width, height)
            size = browser.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
            shot = browser.execute_cdp_cmd("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": size["height"], "scale": 1}})
            (REVIEW_DIR / f"{name}-{label}.png").write_bytes(base64.b64decode(shot["data"]))
    finally:
        browser.set_window_size(*WINDOW_SIZE)


def test_the_empty_page_offers_both_ways_to_check_a_card(browser, live_server, aws):
    open_page(browser, live_server)

    assert browser.find_element(By.ID, "how-ar").value_of_css_property("direction") == "rtl"
    assert browser.find_element(By.ID, "card_image").get_attribute("type") == "file"
    screenshot(browser, "empty")


def test_a_pasted_genuine_card_shows_genuine_active_and_both_names(browser, live_server, family):
    ahmad = family.members["Ahmad Khalid Al-Mutairi"]

    paste(browser, live_server, qr_text(card_png(family, ahmad)))

    en, ar = verdict(browser, "en"), verdict(browser, "ar")
    assert en["headline"] == "Genuine card · Cover active" and ar["headline"] == "بطاقة أصلية · التغطية سارية"
    assert ar["direction"] == "rtl" and en["direction"] == "ltr"
    assert (en["name_en"], en["name_ar"]) == ("Ahmad Khalid Al-Mutairi", "أحمد خالد المطيري")
    assert (ar["name_en"], ar["name_ar"]) == ("Ahmad Khalid Al-Mutairi", "أحمد خالد المطيري")
    assert en["member_id"] == ahmad and en["plan"] == "Gold" and ar["plan"] == "ذهبي"
    assert en["valid"] == "2026-01-01 to 2026-12-31" and en["id"] == "Show a valid ID with this card."
    # Ready for the next card: the box is empty and has the focus again.
    assert browser.find_element(By.ID, "qr").get_attribute("value") == ""
    screenshot(browser, "genuine-active")


def test_pasted_garbage_is_not_a_card_we_can_read(browser, live_server, aws):
    paste(browser, live_server, "HTTP://EXAMPLE.COM/NOT-A-CARD")

    assert verdict(browser, "en")["headline"] == "Not a card we can read"
    assert verdict(browser, "ar")["headline"] == "ليست بطاقة يمكننا قراءتها"
    screenshot(browser, "unreadable")


def test_uploading_the_cards_png_gives_the_same_answer_as_pasting_its_code(browser, live_server, family, tmp_path):
    ahmad = family.members["Ahmad Khalid Al-Mutairi"]
    png = card_png(family, ahmad)
    picture = tmp_path / "card.png"
    picture.write_bytes(png)

    paste(browser, live_server, qr_text(png))
    pasted = {lang: verdict(browser, lang) for lang in ("ar", "en")}
    upload(browser, live_server, picture)
    uploaded = {lang: verdict(browser, lang) for lang in ("ar", "en")}

    assert uploaded["en"]["headline"] == "Genuine card · Cover active"
    for lang in ("ar", "en"):
        assert {k: v for k, v in uploaded[lang].items() if k != "checked"} == {
            k: v for k, v in pasted[lang].items() if k != "checked"}
    screenshot(browser, "genuine-uploaded")


def test_a_terminated_and_revoked_members_card_shows_not_active(browser, live_server, family):
    from chalicelib.cards import revoke_cards

    fatima = family.members["Fatima Ali Al-Mutairi"]
    text = qr_text(card_png(family, fatima))
    hr_upload(csv_rows(FATIMA.replace("2026-12-31,", "2026-02-28,terminate")))
    revoke_cards([fatima])

    paste(browser, live_server, text)

    en, ar = verdict(browser, "en"), verdict(browser, "ar")
    assert en["headline"] == "Genuine card · Cover NOT active" and ar["headline"] == "بطاقة أصلية · التغطية غير سارية"
    assert en["status"] == "Ended by the employer" and en["name_en"] == "Fatima Ali Al-Mutairi"
    assert "withdrawn" in browser.find_element(By.ID, "verdict-en").text
    screenshot(browser, "terminated-revoked")


def test_a_picture_without_a_qr_code_is_refused_in_both_languages(browser, live_server, aws, tmp_path):
    from PIL import Image

    blank = tmp_path / "photo.jpg"
    Image.new("RGB", (640, 480), (200, 210, 220)).save(blank, "JPEG")

    upload(browser, live_server, blank)

    problem = browser.find_element(By.ID, "problem")
    assert problem.get_attribute("data-problem") == "no_qr"
    assert "No QR code was found" in problem.text and "لم يُعثر على رمز QR" in problem.text
    screenshot(browser, "no-qr")
