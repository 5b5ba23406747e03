"""The email-link pages as markup: escaped values, both languages, no script, no echoed password."""

from __future__ import annotations

import re

import pytest

from chalicelib.accounts import pages

EVERY_PAGE = {
    "activate": pages.activate_page("t"),
    "activate_done": pages.activate_done_page("a***@example.com"),
    "link_problem": pages.link_problem_page("reset", "expired"),
    "reset": pages.reset_page("t", {"new_password": ("Too short.", "قصيرة جدًا.")}),
    "reset_done": pages.reset_done_page(),
}


@pytest.mark.parametrize("name", EVERY_PAGE)
def test_every_page_has_an_arabic_rtl_and_an_english_section_and_no_script(name):
    page = EVERY_PAGE[name]

    assert '<section class="ar" lang="ar" dir="rtl"' in page
    assert '<section class="en" lang="en" dir="ltr"' in page
    assert page.count("<h1") == 2
    assert not re.search(r"<script|\son[a-z]+=|javascript:", page, re.IGNORECASE)


def test_dynamic_values_are_escaped_everywhere():
    hostile = '"><script>alert(1)</script>'

    for page in (pages.activate_page(hostile), pages.activate_done_page(hostile),
                 pages.reset_page(hostile, {"confirm_password": (hostile, hostile), "token": (hostile, hostile)})):
        assert "<script" not in page
        assert "&quot;&gt;&lt;script&gt;" in page


def test_reset_page_shows_each_refusal_next_to_its_field_and_general_ones_above():
    page = pages.reset_page("t", {"confirm_password": ("Not the same.", "غير متطابقتين."),
                                  "token": ("Link expired.", "انتهى الرابط.")})

    assert 'id="confirm_password-error"' in page and "Not the same." in page
    assert page.count('aria-invalid="true"') == 1
    assert page.index("Link expired.") < page.index('name="token"')


def test_password_inputs_are_empty_new_password_fields_capped_at_128():
    page = pages.reset_page("t")

    inputs = re.findall(r'<input type="password"[^>]*>', page)
    assert len(inputs) == 2
    for tag in inputs:
        assert 'autocomplete="new-password"' in tag and 'maxlength="128"' in tag and "value=" not in tag


def test_dead_link_pages_point_to_forgot_password_hr_and_customer_service():
    for kind in ("activation", "reset"):
        for reason in ("expired", "used", "invalid"):
            page = pages.link_problem_page(kind, reason)
            assert "Forgot password" in page and "نسيت كلمة المرور" in page
            assert "HR" in page and 'href="tel:19097"' in page


def test_an_unknown_link_problem_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown link problem"):
        pages.link_problem_page("activation", "stolen")  # type: ignore[arg-type]


def test_headers_forbid_caching_framing_referrers_and_scripts():
    headers = pages.PAGE_HEADERS

    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
    assert headers["Content-Security-Policy"].startswith("default-src 'none'; style-src 'unsafe-inline'")


def test_activation_done_page_without_an_address_still_reads_as_a_sentence():
    page = pages.activate_done_page("")

    assert "to your email address." in page and "إلى بريدك الإلكتروني." in page
