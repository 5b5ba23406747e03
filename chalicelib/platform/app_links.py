"""Links into the app: <PUBLIC_BASE_URL>/app/... opens the app's screen (a renewal reminder's link, say).

A phone opens such a link in the app when the domain says the app may claim it: Apple's
`/.well-known/apple-app-site-association` (applinks, the app id and the `/app/*` paths) and Android's
`/.well-known/assetlinks.json` (the package and its signing certificate's SHA-256), built from the
stage's BRAND_IOS_APP_ID, BRAND_ANDROID_PACKAGE and BRAND_ANDROID_CERT_SHA256 (404 while unset).
Where the app is not installed, or the link is opened on a computer, `/app/...` answers a page in
Arabic and English: open it on the phone with the app, and where to get the app. The page names
nothing of the person (the path is never shown back), so nothing about them is cached or leaked.
"""

from __future__ import annotations

from html import escape

from chalice import Response

from chalicelib.errors import Text
from chalicelib.platform.http import HTML_PAGE_HEADERS, ApiBlueprint, html_document, json_response
from chalicelib.settings import get_settings

app_links = ApiBlueprint(__name__)
APP_PATHS = "/app/*"
_FILES = {"Cache-Control": "public, max-age=3600"}
_CSS = """
.stores{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1rem}
.stores a{display:inline-block;padding:.6rem 1rem;border-radius:.5rem;background:var(--brand);color:#fff;
text-decoration:none;font-weight:600}
"""


@app_links.route("/.well-known/apple-app-site-association", methods=["GET"])
def apple_app_site_association() -> Response:
    app_id = get_settings().branding.ios_app_id
    if not app_id:
        return _not_found()
    return json_response({"applinks": {"details": [{
        "appIDs": [app_id], "components": [{"/": APP_PATHS, "comment": "the app's screens"}]}]}},
        headers=_FILES)


@app_links.route("/.well-known/assetlinks.json", methods=["GET"])
def android_asset_links() -> Response:
    brand = get_settings().branding
    if not (brand.android_package and brand.android_cert_sha256):
        return _not_found()
    return json_response([{"relation": ["delegate_permission/common.handle_all_urls"],
                           "target": {"namespace": "android_app", "package_name": brand.android_package,
                                      "sha256_cert_fingerprints": [brand.android_cert_sha256]}}], headers=_FILES)


# A screen of the app is /app/<section>/<item>/<action> (a reminder's /app/policies/<number>/renew).
# One fixed depth: API Gateway's greedy {proxy+} is not served by Chalice's local gateway.
@app_links.route("/app/{section}/{item}/{action}", methods=["GET"])
def app_screen(section: str, item: str, action: str) -> Response:
    """The page a link into the app falls back to where the app did not open it."""
    return Response(body=fallback_page(), status_code=200, headers=dict(HTML_PAGE_HEADERS))


def fallback_page() -> str:
    brand = get_settings().branding
    stores = [(url, label) for url, label in ((brand.app_store_url, "App Store"),
                                              (brand.play_store_url, "Google Play")) if url]
    links = "".join(f'<a href="{escape(url)}">{label}</a>' for url, label in stores)
    where = Text(
        f"Get {brand.app_en} from " + (" or ".join(label for _, label in stores) if stores
                                       else "the App Store or Google Play") + ", then open the link again.",
        f"حمّل تطبيق {brand.app_ar} من " + (" أو ".join(label for _, label in stores) if stores
                                           else "App Store أو Google Play") + "، ثم افتح الرابط مرة أخرى.")
    title = Text(f"Open this in the {brand.app_en} app", f"افتح هذا الرابط في تطبيق {brand.app_ar}")
    body = Text(f"This link opens a screen of the {brand.app_en} app on the phone where you use it.",
                f"يفتح هذا الرابط شاشة في تطبيق {brand.app_ar} على الهاتف الذي تستخدمه.")
    main = (f'<section lang="ar" dir="rtl"><h1>{escape(title.ar)}</h1><p>{escape(body.ar)}</p>'
            f"<p>{escape(where.ar)}</p></section>"
            f'<section lang="en" dir="ltr"><h1>{escape(title.en)}</h1><p>{escape(body.en)}</p>'
            f"<p>{escape(where.en)}</p></section>"
            + (f'<nav class="stores" aria-label="App stores">{links}</nav>' if links else ""))
    css = f":root{{--brand:{brand.colour}}}{_CSS}"
    return html_document(title, main, css)


def _not_found() -> Response:
    return json_response({"error": {"code": "NOT_FOUND", "message": "Not found."}}, status=404)
