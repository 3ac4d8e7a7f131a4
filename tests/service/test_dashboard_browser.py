"""The live dashboard in headless Chromium: sign in once, figures and comments drawn, customer text
shown as text (never run), no inline script allowed, no request leaves the server, updates live."""

from __future__ import annotations

import shutil

import httpx
import pytest

from custfocus.service import create_key

pytestmark = [pytest.mark.service, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HOSTILE = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script> [bold]late[/bold]'


def test_the_dashboard_signs_in_draws_escapes_and_updates(sqlite_database, start_server):
    from playwright import sync_api as playwright

    server = start_server(sqlite_database)
    reader, submitter = create_key(sqlite_database, ["read"]), create_key(sqlite_database, ["submit"])
    headers = {"Authorization": f"Bearer {submitter}"}
    with httpx.Client(base_url=server.url, headers=headers) as http:
        for score in (10, 9, 2):
            assert http.post("/api/v1/responses", json={"kind": "nps", "score": score}).status_code == 201
        assert http.post("/api/v1/responses", json={"kind": "nps", "score": 1, "customer_id": "C-77",
                                                     "comment": HOSTILE}).status_code == 201
    requested, errors = [], []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        page.on("request", lambda request: requested.append(request.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(server.url + "/")
        page.fill("#key", reader)
        page.click("button[type=submit]")
        page.wait_for_selector("#pulse tbody tr")
        page.wait_for_selector("#comments li")
        nps_today = page.locator("#pulse tbody tr").first.locator("td").first.inner_text()
        comment = page.locator("#comments q").first.inner_text()
        pwned = page.evaluate("window.pwned === undefined")
        injected = page.locator("#comments img, #comments script").count()
        queue = page.locator("#cases tbody tr").first.inner_text()
        # A new answer appears without a reload.
        with httpx.Client(base_url=server.url, headers=headers) as http:
            http.post("/api/v1/responses", json={"kind": "csat", "score": 5, "comment": "Fresh answer"})
        # (a locator wait: wait_for_function evaluates strings, which the policy rightly forbids)
        playwright.expect(page.locator("#comments q").first).to_have_text("Fresh answer", timeout=20_000)
        # The policy itself: an inline script added to the page is refused.
        page.evaluate("""() => { const s = document.createElement('script');
                                  s.textContent = 'window.inline = 1'; document.body.append(s); }""")
        inline_ran = page.evaluate("window.inline === 1")
        browser.close()
    assert nps_today.startswith("0") and "n=4" in nps_today  # 2 promoters, 2 detractors of 4
    assert comment == HOSTILE  # shown as the customer wrote it
    assert pwned and injected == 0
    assert "C-77" in queue and "detractor" in queue
    assert not inline_ran
    assert requested and [url for url in requested if not url.startswith(server.url)] == []
    assert [e for e in errors if "Content Security Policy" not in e] == []
