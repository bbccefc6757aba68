"""A headless Chromium for the browser tests (`browser`), and full-page screenshots of what it shows (`screenshot`).

Skipped when Chromium, chromedriver or selenium are missing, except under CI (the CI variable set), where the
missing browser is a failure: CI installs them so that the browser tests always run there."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from helpers import unavailable

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
DRIVER_CANDIDATES = ("/usr/bin/chromedriver", "chromedriver")
WINDOW_WIDTH = 1200


def _find(env: str, candidates) -> str | None:
    for name in ([os.environ[env]] if os.environ.get(env) else []) + list(candidates):
        path = name if os.path.isabs(name) and os.access(name, os.X_OK) else shutil.which(name)
        if path:
            return path
    return None


def _unavailable(reason: str):
    unavailable(reason, "CI must install chromium, chromium-driver and selenium for the browser tests")


@pytest.fixture
def browser(tmp_path):
    """A headless Chromium driven by Selenium, with a profile of its own in tmp_path."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("the selenium package is not installed")
    chromium = _find("CHROME_BIN", CHROMIUM_CANDIDATES)
    driver_path = _find("CHROMEDRIVER", DRIVER_CANDIDATES)
    if chromium is None or driver_path is None:
        _unavailable(f"no {'Chromium' if chromium is None else 'chromedriver'} found (set CHROME_BIN / CHROMEDRIVER)")
    options = webdriver.ChromeOptions()
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        f"--window-size={WINDOW_WIDTH},900",
    ):
        options.add_argument(flag)
    options.binary_location = chromium
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(15)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def screenshot(browser, tmp_path):
    """screenshot(name) saves a PNG of the whole page the browser shows as tmp_path/NAME.png (the window grown to the
    page's height), copies it into $EMBER_SCREENSHOT_DIR when that is set, for a person to look at, and returns it."""

    def save(name: str) -> Path:
        browser.set_window_size(WINDOW_WIDTH, 600)  # first small, so that a short page is measured as short
        # the window's height less the part the page is drawn in (headless Chromium keeps room for its toolbars)
        height, chrome = browser.execute_script(
            "return [document.documentElement.scrollHeight, window.outerHeight - window.innerHeight]"
        )
        browser.set_window_size(WINDOW_WIDTH, max(600, min(int(height) + int(chrome), 6000)))
        path = tmp_path / f"{name}.png"
        assert browser.save_screenshot(str(path)), f"no screenshot of {name}"
        if os.environ.get("EMBER_SCREENSHOT_DIR"):
            target = Path(os.environ["EMBER_SCREENSHOT_DIR"])
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target / path.name)
        return path

    return save
