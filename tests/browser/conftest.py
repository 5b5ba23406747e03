"""Fixtures for the HTML pages in a real browser: a live local API and headless Chromium.

Selenium drives Debian's `chromium` through Debian's `chromedriver`: both come from one
source package, so their versions always match, and WebDriver gives real typing and
clicking plus waits for page loads, which raw DevTools Protocol calls would make us
rewrite. Selenium Manager is never asked to download anything: both paths are given.

JavaScript is switched off in the browser profile, so every test here proves a page
works without it. Under CI=true a missing browser fails the run instead of skipping.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

STAGE = "dev"  # the stage tests/conftest.py loads
INSTALL_HINT = "run tests/browser/install-chromium.sh as root (apt-get install chromium chromium-driver)"
# Mobile-first: the pages are opened from an email on a phone.
WINDOW_SIZE = (412, 915)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # root in containers and CI; the pages under test are our own
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # small /dev/shm in containers crashes tabs
)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _unavailable(reason: str) -> None:
    """Fail under CI (these tests must run there), skip with the reason elsewhere."""
    if _in_ci():
        pytest.fail(f"CI=true but the browser tests cannot run: {reason}; {INSTALL_HINT}", pytrace=False)
    pytest.skip(f"{reason}; {INSTALL_HINT}")


def _executable(env_name: str, *names: str) -> str | None:
    """The path from the environment variable, else the first of names found on PATH."""
    if os.environ.get(env_name):
        return shutil.which(os.environ[env_name])  # None unless it is an executable file
    return next((found for name in names if (found := shutil.which(name))), None)


@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    """The `app` fixture's Chalice app served over HTTP as `make run` serves it, on a free port."""
    from tests.served import served

    with served(app) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def _chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium for the session, with a fresh profile and JavaScript off."""
    chromium = _executable("CHROMIUM_BINARY", "chromium", "chromium-browser")
    driver_path = _executable("CHROMEDRIVER", "chromedriver")
    if chromium is None or driver_path is None:
        missing = [name for name, path in (("chromium", chromium), ("chromedriver", driver_path)) if not path]
        _unavailable(f"{' and '.join(missing)} not found")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("the selenium package is not installed (requirements-dev.txt)")

    profile: Path = tmp_path_factory.mktemp("chromium-profile")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={WINDOW_SIZE[0]},{WINDOW_SIZE[1]}")
    options.add_argument("--lang=ar")
    # 2 = block: the content setting a user gets from "Don't allow sites to use JavaScript".
    options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(15)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(_chromium: Any) -> Any:
    """The session's Chromium (a Selenium WebDriver), on a blank page with no cookies."""
    _chromium.get("about:blank")
    _chromium.delete_all_cookies()
    return _chromium
