"""The demo report in headless Chromium: charts render, no script error, no network request."""

from __future__ import annotations

import shutil

import pytest

from custfocus import demo
from custfocus.data.loading import load
from custfocus.report.build import build_report
from custfocus.report.html import write_html

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    demo.write(demo.generate(customers=3_000, seed=3), folder)
    report = build_report(load(folder))
    return report, write_html(report, folder / "report.html")


def test_report_renders_offline_without_errors(demo_report):
    from playwright import sync_api as playwright
    report, path = demo_report
    expected_charts = sum(len(s.charts) for s in report.sections if s.available)
    assert expected_charts >= 6
    requests, errors = [], []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})

        def refuse_network(route):
            if route.request.url.startswith(("file:", "data:", "blob:")):
                return route.continue_()
            requests.append(route.request.url)
            return route.abort()

        page.route("**/*", refuse_network)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(path.as_uri())
        page.wait_for_function(
            f"document.querySelectorAll('.chart .js-plotly-plot .main-svg').length >= {expected_charts}",
            timeout=30_000)
        rendered = page.locator(".chart .js-plotly-plot").count()
        drawn = page.evaluate("Array.from(document.querySelectorAll('.js-plotly-plot'))"
                              ".filter(d => d.querySelector('.trace, image')).length")  # heatmaps draw an image
        browser.close()
    assert rendered == expected_charts
    assert drawn == expected_charts, "every chart has drawn data, not just axes"
    assert errors == []
    assert requests == []
