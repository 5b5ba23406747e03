"""Links into the app (a renewal reminder's): the association files phones read, and the page the link
falls back to where the app did not open it."""

from __future__ import annotations

import pytest

from chalicelib.settings import reset_settings

ANDROID_SHA = ":".join(["AB"] * 32)


@pytest.fixture
def app_identity(monkeypatch):
    monkeypatch.setenv("BRAND_IOS_APP_ID", "ABCDE12345.com.example.insure")
    monkeypatch.setenv("BRAND_ANDROID_PACKAGE", "com.example.insure")
    monkeypatch.setenv("BRAND_ANDROID_CERT_SHA256", ANDROID_SHA)
    reset_settings()
    yield
    reset_settings()


def test_the_association_files_let_the_app_claim_app_links(aws, api, app_identity):
    apple = api.get("/.well-known/apple-app-site-association")
    android = api.get("/.well-known/assetlinks.json")

    assert apple.status == 200 and apple.headers["Content-Type"] == "application/json"
    assert apple.body == {"applinks": {"details": [{"appIDs": ["ABCDE12345.com.example.insure"],
                                                    "components": [{"/": "/app/*", "comment": "the app's screens"}]}]}}
    assert android.status == 200 and android.body == [{
        "relation": ["delegate_permission/common.handle_all_urls"],
        "target": {"namespace": "android_app", "package_name": "com.example.insure",
                   "sha256_cert_fingerprints": [ANDROID_SHA]}}]


def test_without_the_apps_identities_there_is_nothing_to_claim(aws, api):
    assert api.get("/.well-known/apple-app-site-association").status == 404
    assert api.get("/.well-known/assetlinks.json").status == 404


def test_an_app_identity_of_the_wrong_shape_is_refused_at_start(monkeypatch):
    monkeypatch.setenv("BRAND_ANDROID_CERT_SHA256", "ab:cd")
    reset_settings()
    try:
        from chalicelib.settings import get_settings

        with pytest.raises(ValueError, match="BRAND_ANDROID_CERT_SHA256"):
            get_settings()
    finally:
        monkeypatch.delenv("BRAND_ANDROID_CERT_SHA256")
        reset_settings()


def test_a_renewal_link_opened_without_the_app_answers_a_page_in_both_languages(aws, client, monkeypatch):
    from chalicelib.premiums.renewals import renewal_link
    from chalicelib.settings import get_settings

    monkeypatch.setenv("BRAND_APP_STORE_URL", "https://apps.apple.com/app/id123")
    reset_settings()
    link = renewal_link(get_settings().public_base_url, "RH-26-4K7M-9P2Q")
    path = link.removeprefix(get_settings().public_base_url)

    page = client.http.get(path)

    text = page.body.decode()
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert page.headers["Cache-Control"] == "no-store"
    assert "افتح هذا الرابط في تطبيق" in text and "Open this in the" in text
    assert 'href="https://apps.apple.com/app/id123"' in text
    assert "RH-26-4K7M-9P2Q" not in text  # the page shows nothing of the link's policy
    reset_settings()
