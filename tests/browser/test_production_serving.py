"""With debug off, the platform serves its own static files, hashed and compressed: the admin is
styled, and the chat widget loads on a customer's site, another origin."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.pages import open_widget, screenshot
from tests.helpers import deploy, make_chat_widget

pytestmark = pytest.mark.browser

SHOP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Northwind shop</title></head>
<body><h1>Northwind shop</h1>{snippet}</body></html>"""


@pytest.fixture
def shop(transactional_db, live_url, key_server, workstream) -> str:
    """A customer's page on another origin (`localhost` on the key server's port) with a
    guest chat's snippet, on a deployment that allows it."""
    widget = make_chat_widget(workstream, name="Shop chat", require_authentication=False)
    deployment = deploy(widget, name="Shop", site=f"localhost:{key_server.port}")
    page = SHOP_PAGE.format(snippet=deployment.snippet(live_url))
    key_server.serve("/shop", page, content_type="text/html; charset=utf-8")
    return f"http://localhost:{key_server.port}/shop"


def test_the_chat_widget_loads_styled_on_a_customers_page_on_another_origin(
    shop, live_url, new_page
):
    page = new_page()
    assets = []
    page.on(
        "response",
        lambda response: assets.append(response) if "/static/" in response.url else None,
    )
    page.goto(shop)
    open_widget(page)

    launcher = page.locator(".cc-launcher")
    expect(launcher).to_have_css("border-radius", "24px")
    expect(page.get_by_role("dialog", name="Chat with us")).to_be_visible()
    expect(page.get_by_role("textbox", name="Message")).to_be_enabled()
    expect(page.locator(".cc-alert")).to_be_hidden()
    screenshot(page, "widget-on-another-origin")

    # Named by their content's hash, so that a page never mixes files of two versions.
    hashed = re.compile(r"/static/messaging/widget/(\w+)\.[0-9a-f]{12}\.(css|js)$")
    served = {".".join(hashed.search(response.url).groups()): response for response in assets}
    assert sorted(served) == ["pane.js", "transport.js", "widget.css", "widget.js"]
    for name in served:
        content_type = "text/css" if name == "widget.css" else "text/javascript"
        response = served[name]
        assert response.url.startswith(f"{live_url}/static/messaging/widget/")
        assert response.status == 200
        assert response.headers["content-type"].startswith(content_type)
        assert response.headers["cross-origin-resource-policy"] == "cross-origin"
        assert response.headers["x-content-type-options"] == "nosniff"


def test_the_admin_styles_are_served_under_a_hashed_name_and_compressed(live_url):
    login = httpx.get(f"{live_url}/admin/login/")
    assert login.status_code == 200
    stylesheet = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', login.text)
    assert stylesheet, "the admin names its styles by their content's hash"

    response = httpx.get(f"{live_url}{stylesheet[1]}", headers={"Accept-Encoding": "gzip"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert response.headers["content-encoding"] == "gzip"
    assert "immutable" in response.headers["cache-control"]
    assert "#header" in response.text
