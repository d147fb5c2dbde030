"""The administrator's view of operations in Chromium: the task-ordered admin index, and a
setting's refused sign-ins after refused chat starts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import async_to_sync
from playwright.sync_api import expect

from messaging.models import ChannelInstance
from tests.browser.pages import screenshot, sign_in_admin
from tests.messaging.sockets import refused_start
from tests.ops.failures import written

pytestmark = pytest.mark.browser

EXPIRED = (
    # header {"alg":"RS256","kid":"portal-old"}, payload iss, sub, iat 1000, exp 1060
    "eyJhbGciOiJSUzI1NiIsImtpZCI6InBvcnRhbC1vbGQifQ."
    "eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xIiwic3ViIjoiZGFuYSIsImlhdCI6MTAwMCwiZXhwIjoxMDYwfQ."
    "c2lnbmF0dXJl"
)


def refuse_starts(widget_id) -> list[str]:
    """Refused starts of the demo widget from the demo's own origin and from a foreign one:
    their codes, once the failure log has them."""

    async def starts():
        codes = []
        for token, origin in [
            ("not-a-jwt", "http://127.0.0.1"),
            (EXPIRED, "http://127.0.0.1"),
            (EXPIRED, "http://localhost"),
            (EXPIRED, "https://elsewhere.example"),
        ]:
            frame, _ = await refused_start(widget_id, token, origin=origin)
            codes.append(frame["code"])
        return codes

    # Playwright's event loop holds this thread; the sockets get one of their own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        codes = pool.submit(async_to_sync(starts)).result()
    written()
    return codes


def test_the_admin_index_and_a_settings_refused_sign_ins(new_page, demo):
    widget = ChannelInstance.objects.get(name="Portal chat")
    codes = refuse_starts(widget.widget_id)
    assert codes == ["token_malformed", "unknown_kid", "unknown_kid", "origin_not_allowed"]

    page = new_page()
    sign_in_admin(page, demo)
    page.goto(f"{demo}/admin/")
    expect(page.locator("#site-name")).to_have_text("Contact center admin")
    sections = page.locator("#content-main .module caption")
    expect(sections.first).to_have_text("Customer settings")
    expect(sections.last).to_have_text("Identity provider")
    expect(page.get_by_role("link", name="Set up chat", exact=True)).to_be_visible()
    screenshot(page, "admin-index")

    page.get_by_role("link", name="Authentication settings").first.click()
    page.get_by_role("link", name="Sample portal").click()
    panel = page.locator("#failure-panel")
    expect(panel).to_contain_text("Refused sign-ins")
    expect(panel.locator('tr[data-code="unknown_kid"] .last-hour')).to_have_text("2")
    expect(panel.locator('tr[data-code="origin_not_allowed"] .last-day')).to_have_text("1")
    expect(panel).to_contain_text("elsewhere.example")
    expect(panel).to_contain_text("Fix: Put in the token header the kid")
    panel.scroll_into_view_if_needed()
    screenshot(page, "setting-failure-panel")

    page.get_by_role("link", name="Test this setting").click()
    expect(page.locator("#failure-panel")).to_contain_text("token_malformed")
    screenshot(page, "tester-failure-panel")
