"""End to end in headless Chromium: the dashboard lists a run, draws its curves, and follows new metrics lines
live, without reloading the page. The `browser` fixture (conftest.py) skips these tests when Chromium, chromedriver or
selenium are missing, except under CI, where that is a failure."""

from __future__ import annotations

import pytest
from dashboard_fixtures import epoch_line, running_server, write_run


def test_dashboard_updates_live_without_reloading(tmp_path, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    runs = tmp_path / "runs"
    run = write_run(runs / "live-run", 2)
    with running_server(runs) as server:
        browser.get(server.url)
        assert browser.title == "ember dashboard"
        card_css = 'section.run[data-run="live-run"]'
        wait = WebDriverWait(browser, 10, poll_frequency=0.1)
        card = wait.until(
            lambda d: d.find_elements(By.CSS_SELECTOR, card_css) and d.find_element(By.CSS_SELECTOR, card_css)
        )
        wait.until(lambda d: card.get_attribute("data-points") == "2")
        loss_chart = card.find_element(By.CSS_SELECTOR, "svg.chart.loss")
        assert loss_chart.get_attribute("data-points") == "2"
        # two epochs x (train, val): four markers, and lines through them
        assert len(loss_chart.find_elements(By.TAG_NAME, "circle")) == 4
        assert loss_chart.find_elements(By.TAG_NAME, "polyline")
        legend = card.find_element(By.CSS_SELECTOR, ".legend")
        assert float(legend.get_attribute("data-last-loss")) == pytest.approx(2.0 / 2)
        assert "live-run" in browser.find_element(By.ID, "summary").text

        browser.execute_script("window.__marker = 1;")
        with open(run / "metrics.jsonl", "a") as f:
            f.write(epoch_line(3))
        wait.until(lambda d: card.get_attribute("data-points") == "3")
        assert browser.execute_script("return window.__marker;") == 1  # the same page: it was not reloaded
        assert float(legend.get_attribute("data-last-loss")) == pytest.approx(2.0 / 3, rel=1e-5)
        assert len(loss_chart.find_elements(By.TAG_NAME, "circle")) == 6
        assert "epoch 3" in legend.text

        write_run(runs / "later-run", 1)  # a run started after the page was opened shows up too
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, 'section.run[data-run="later-run"][data-points="1"]'))
        assert browser.execute_script("return window.__marker;") == 1


def test_live_runs_come_first_then_the_newest(tmp_path, browser):
    import os
    import time

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    runs = tmp_path / "runs"
    old = write_run(runs / "aaa-old", 2)
    write_run(runs / "zzz-live", 1)  # just written, no model.pt: live, and first although its name sorts last
    then = time.time() - 600
    os.utime(old / "metrics.jsonl", (then, then))
    with running_server(runs) as server:
        browser.get(server.url)
        wait = WebDriverWait(browser, 10, poll_frequency=0.1)

        def order(d):
            return [c.get_attribute("data-run") for c in d.find_elements(By.CSS_SELECTOR, "section.run")]

        wait.until(lambda d: len(order(d)) == 2)
        assert order(browser) == ["zzz-live", "aaa-old"]
        rows = browser.find_elements(By.CSS_SELECTOR, "#summary-body tr")
        assert [r.get_attribute("data-run") for r in rows] == ["zzz-live", "aaa-old"]
