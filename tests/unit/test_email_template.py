"""The branded email template: escaping, the Arabic greeting, branding from settings, text and HTML parts;
and the login answers that count in words (the lock's wait, the warning before it), alike for unknown names."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from chalicelib.accounts import passwords, sessions
from chalicelib.accounts.errors import InvalidCredentials, LockedOut
from chalicelib.platform import messages
from chalicelib.settings import Branding, get_settings, reset_settings
from tests.accounts.fakes import make_world
from tests.accounts.test_sessions_on_fakes import PASSWORD, resident


@pytest.fixture(autouse=True)
def _fresh_settings():
    reset_settings()
    yield
    reset_settings()


def test_values_from_hr_data_are_escaped_in_the_html():
    name = '<img src=x onerror=alert(1)> "Omar" & Co'
    message = messages.welcome_email("omar@acme.example", name, 'https://x.example/activate?token=a"b<c', 14,
                                     "<script>عمر</script>")
    assert "<img" not in message.html and "<script>" not in message.html
    assert "&lt;img src=x onerror=alert(1)&gt; &quot;Omar&quot; &amp; Co" in message.html
    assert "&lt;script&gt;عمر&lt;/script&gt;" in message.html
    assert 'href="https://x.example/activate?token=a&quot;b&lt;c"' in message.html
    assert name in message.text  # the plain-text part says it as it is


def test_the_arabic_part_greets_with_the_arabic_name_and_falls_back_to_the_latin_one():
    both = messages.welcome_email("o@acme.example", "Omar Ali", "https://x.example/a", 14, "عمر علي")
    assert "مرحبًا عمر علي" in both.text and "Welcome, Omar Ali" in both.text and "مرحبًا Omar" not in both.text
    latin = messages.welcome_email("o@acme.example", "Omar Ali", "https://x.example/a", 14)
    assert "مرحبًا Omar Ali" in latin.text


def test_every_email_has_a_text_and_an_html_part_with_the_insurer_and_where_to_get_the_app():
    message = messages.reset_link_email("s@example.com", None, "https://x.example/r", 24)
    assert message.text and message.html.startswith("<!doctype html>")
    assert 'dir="rtl" lang="ar"' in message.html and 'lang="en"' in message.html
    assert "max-width:600px" in message.html and "<img" not in message.html and "<svg" in message.html
    html = message.html.replace("&nbsp;", " ")  # a count and its noun, and store names, never split across lines
    for words in ("Gulf Mutual Health", "الخليج للتأمين الصحي", "App Store", "Google Play", "24 hours", "24 ساعة"):
        assert words in message.text and words in html
    assert "24&nbsp;ساعة" in message.html and "App&nbsp;Store" in message.html
    assert message.text.index("إعادة تعيين") < message.text.index("Reset your password")  # Arabic first


def test_the_temporary_password_stands_on_its_own_line_and_in_its_own_box():
    message = messages.activation_password_email("o@acme.example", "Omar", "Tq7#mW2x-Lp9v", 7)
    assert "\n    Tq7#mW2x-Lp9v\n" in message.text
    assert message.html.count('class="secret" dir="ltr"') == 2 and "monospace" in message.html
    assert "7 days" in message.text and "7 أيام" in message.text


def test_branding_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("BRAND_INSURER_EN", "Acme Health")
    monkeypatch.setenv("BRAND_INSURER_AR", "أكمي للصحة")
    monkeypatch.setenv("BRAND_COLOUR", "#123456")
    monkeypatch.setenv("BRAND_APP_STORE_URL", "https://apps.apple.com/kw/app/acme/id1")
    monkeypatch.setenv("BRAND_PLAY_STORE_URL", "https://play.google.com/store/apps/details?id=com.acme")
    reset_settings()
    message = messages.password_expiry_reminder("s@example.com", "en", 7)
    assert "Acme Health" in message.html and "#123456" in message.html and "أكمي" not in message.html
    assert 'href="https://apps.apple.com/kw/app/acme/id1"' in message.html
    assert 'href="https://play.google.com/store/apps/details?id=com.acme"' in message.html
    assert "App Store: https://apps.apple.com/kw/app/acme/id1" in message.text


@pytest.mark.parametrize(("name", "value"), [("BRAND_COLOUR", "red;background:url(x)"),
                                              ("BRAND_APP_STORE_URL", "javascript:alert(1)")])
def test_a_branding_value_that_could_break_out_of_the_html_is_refused(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    reset_settings()
    with pytest.raises(ValueError, match=name):
        get_settings()


def test_a_logo_file_replaces_the_drawn_shield(tmp_path):
    logo = tmp_path / "logo.svg"
    logo.write_text('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" id="acme-logo"></svg>')
    brand = dataclasses.replace(Branding(), logo_svg_file=str(logo))
    assert 'id="acme-logo"' in messages._logo(brand) and "<?xml" not in messages._logo(brand)


def test_a_welcome_job_carries_the_arabic_name_and_an_old_job_has_it_looked_up():
    world = make_world()
    looked_up: list[str] = []
    world.deps.arabic_name_of = lambda account_id: looked_up.append(account_id) or "سارة"
    account = passwords.invite(world.deps, email="sara@acme.example", name="Sara")
    job = passwords.welcome_job(account, "سارة أحمد")
    assert job["name_ar"] == "سارة أحمد" and "name_ar" not in passwords.welcome_job(account)

    carried = passwords.welcome_message(world.deps, account.account_id, 1, "سارة أحمد", look_up_name=False)
    assert carried is not None and "مرحبًا سارة أحمد" in carried.text and looked_up == []

    world.store.accounts[account.account_id].welcome_delivered_generation = None
    old_job = passwords.welcome_message(world.deps, account.account_id, 1)
    assert old_job is not None and "مرحبًا سارة" in old_job.text and looked_up == [account.account_id]


def _answers(world, username: str) -> list[Exception]:
    answers: list[Exception] = []
    for _ in range(6):
        try:
            sessions.login(world.deps, username, "wrong-password", "d1", "Phone")
        except (InvalidCredentials, LockedOut) as error:
            answers.append(error)
    return answers


def test_the_try_before_the_lock_warns_and_the_lock_says_how_long_in_both_languages():
    world = make_world()
    resident(world)
    answers = _answers(world, "sara@example.com")
    assert [type(a).__name__ for a in answers] == ["InvalidCredentials"] * 4 + ["LockedOut"] * 2
    assert "One more" not in answers[2].text.en
    assert "One more failed try locks this username for 15 minutes" in answers[3].text.en
    assert "محاولة فاشلة أخرى توقف اسم المستخدم لمدة 15 دقيقة" in answers[3].text.ar
    assert "Try again in 15 minutes" in answers[4].text.en and "حاول مرة أخرى بعد 15 دقيقة" in answers[4].text.ar
    assert answers[4].headers["Retry-After"] == "900"

    world.clock.shift(timedelta(minutes=13, seconds=30))
    with pytest.raises(LockedOut) as later:
        sessions.login(world.deps, "sara@example.com", PASSWORD, "d1", "Phone")
    assert later.value.headers["Retry-After"] == "90"
    assert "Try again in 2 minutes" in later.value.text.en and "بعد دقيقتين" in later.value.text.ar


def test_a_known_and_an_unknown_name_get_the_same_words():
    world = make_world()
    resident(world)
    known = [(a.code, a.text, a.headers) for a in _answers(world, "sara@example.com")]
    unknown = [(a.code, a.text, a.headers) for a in _answers(world, "nobody@example.com")]
    assert known == unknown
