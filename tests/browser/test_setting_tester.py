"""An administrator tests the demo's authentication setting from its change page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import screenshot, sign_in_admin, sign_in_customer

pytestmark = pytest.mark.browser


def portal_token(new_page, base: str) -> str:
    customer = new_page()
    sign_in_customer(customer, base)
    return customer.evaluate("fetch('/portal/auth/token').then((response) => response.text())")


def check_row(page, name: str):
    """The row of one check, e.g. "Pass signature The signature matches..."."""
    return page.get_by_role("row", name=re.compile(rf"^(Pass|Fail|Not run) {re.escape(name)}\b"))


def test_an_administrator_tests_the_portal_setting_with_a_real_token(new_page, demo):
    token = portal_token(new_page, demo)
    page = new_page()
    sign_in_admin(page, demo)
    page.goto(f"{demo}/admin/authsettings/authenticationsetting/")
    page.get_by_role("link", name="Sample portal").click()
    page.get_by_role("link", name="Test this setting").click()
    expect(page.locator("#test-plan")).to_contain_text("It runs when you press Run the test.")
    expect(page.locator("table.keys")).to_have_count(0)
    screenshot(page, "tester-before-running")

    page.get_by_role("button", name="Run the test").click()
    keys = page.locator("table.keys tbody tr")
    expect(keys.first).to_contain_text("kid list")
    expect(keys.first).to_contain_text("2048")
    expect(page.locator("#test-summary")).to_contain_text("Everything checked passed.")

    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Run the test").click()
    expect(page.locator("#test-summary")).to_contain_text("Everything checked passed.")
    expect(check_row(page, "signature")).to_contain_text("Pass")
    expect(check_row(page, "Web chat: msdyn_cartvalue")).to_contain_text("Pass")
    screenshot(page, "tester-token-passes")

    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload}.{signature[:-6]}AAAAAA"
    page.get_by_label("Token").fill(tampered)
    page.get_by_role("button", name="Run the test").click()
    expect(page.locator("#test-summary")).to_contain_text("1 check failed.")
    expect(check_row(page, "signature")).to_contain_text("Fail")
    expect(check_row(page, "signature")).to_contain_text("Fix: Sign with the private key")
    expect(check_row(page, "exp")).to_contain_text("Not run")
    screenshot(page, "tester-token-fails")
