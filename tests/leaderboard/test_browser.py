"""leaderboard.html in headless Chromium: renders offline, sorts, filters, runs no injected code."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from spectramind.leaderboard.build import build_leaderboard

from .synthetic_sweep import HOSTILE_LEVEL

CHROMIUM = "/usr/bin/chromium"
SCREENSHOT = Path("/tmp/leaderboard.png")


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield browser
        browser.close()


def _visible_column(page, table_id: str, column: int) -> list[str]:
    return page.eval_on_selector_all(
        f"#{table_id} tbody tr",
        f"rows => rows.filter(r => r.style.display !== 'none').map(r => r.cells[{column}].textContent)",
    )


def _column_index(page, table_id: str, header: str) -> int:
    return page.eval_on_selector_all(f"#{table_id} thead th", "ths => ths.map(t => t.textContent)").index(header)


def test_leaderboard_page_in_chromium(browser, mixed_sweep):
    html_path = build_leaderboard(mixed_sweep.dir)["html"]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors, foreign_requests = [], []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))

    def only_local_files(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            foreign_requests.append(route.request.url)
            route.abort()

    page.route("**/*", only_local_files)
    page.goto(html_path.as_uri())
    n_plots = page.locator("div[data-figure]").count()
    assert n_plots >= 9  # bar, 2 trends, heatmap, parallel coordinates, curves, 4 diagnostics
    page.wait_for_function(
        "() => [...document.querySelectorAll('div[data-figure]')].every(d => d.querySelector('.main-svg'))",
        timeout=30_000,
    )

    # every configuration and every run is a row
    n_configs = len({r.config_id for r in mixed_sweep.runs})
    assert page.locator("#ranking-table tbody tr").count() == n_configs
    assert page.locator("#runs-table tbody tr").count() == len(mixed_sweep.runs)
    assert page.locator("#ranking-table-count").text_content() == f"{n_configs} of {n_configs} rows"

    # sorting: numeric, missing values last, toggles direction
    mean = _column_index(page, "ranking-table", "adc2025 mean")
    page.locator("#ranking-table thead th").nth(mean).click()
    ascending = _visible_column(page, "ranking-table", mean)
    numbers = [float(v) for v in ascending if v != "—"]
    assert numbers == sorted(numbers) and ascending[len(numbers) :] == ["—"] * (len(ascending) - len(numbers))
    page.locator("#ranking-table thead th").nth(mean).click()
    descending = [float(v) for v in _visible_column(page, "ranking-table", mean) if v != "—"]
    assert descending == sorted(numbers, reverse=True)
    model = _column_index(page, "ranking-table", "model")
    page.locator("#ranking-table thead th").nth(model).click()
    assert _visible_column(page, "ranking-table", model) == sorted(_visible_column(page, "ranking-table", model))

    # filtering: plain text, and the hostile level is searchable text, not markup
    page.fill("input[data-table='ranking-table']", "mlp")
    assert set(_visible_column(page, "ranking-table", model)) == {"mlp"}
    n_mlp = len({r.config_id for r in mixed_sweep.runs if r.factors["model"] == "mlp"})
    assert page.locator("#ranking-table-count").text_content() == f"{n_mlp} of {n_configs} rows"
    page.fill("input[data-table='ranking-table']", HOSTILE_LEVEL)
    lr = _column_index(page, "ranking-table", "optimizer.lr")
    assert set(_visible_column(page, "ranking-table", lr)) == {HOSTILE_LEVEL}
    page.fill("input[data-table='ranking-table']", "")
    assert len(_visible_column(page, "ranking-table", 0)) == n_configs

    failed_text = page.locator("#failed-table").text_content()
    assert '</script><img src=x onerror="window.__pwned2=1">' in failed_text
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("typeof window.__pwned2") == "undefined"
    assert page.locator("img").count() == 0
    assert errors == []
    assert foreign_requests == []

    # full-page screenshot for a human look (viewport grown so plotly lays out at final size)
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 1400, "height": height})
    page.wait_for_timeout(500)
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 50_000
    page.close()
