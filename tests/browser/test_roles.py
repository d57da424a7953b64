"""Each role signs in, sees its own navigation, and is refused a page it may not see."""

import pytest

from roster.templating import NAVIGATION
from roster.permissions import ENDPOINT_PERMISSIONS, role_can

ROLES = ("admin", "coordinator", "front_desk", "biller", "facilitator")
FORBIDDEN = {
    "coordinator": "/billing/review",
    "front_desk": "/billing/review",
    "biller": "/frontdesk/today",
    "facilitator": "/billing/exports",
    "admin": None,
}


@pytest.mark.parametrize("role", ROLES)
def test_role_sees_its_navigation_and_is_refused_elsewhere(ui, build, role):
    user = build.user(role=role)
    ui.login(user.email)
    nav = ui.page.get_by_role("navigation", name="Main")
    labels = [t.strip() for t in nav.get_by_role("link").all_inner_texts()]
    expected = [label for label, endpoint in NAVIGATION if role_can(role, ENDPOINT_PERMISSIONS[endpoint])]
    assert labels == expected
    assert ui.page.locator(".role-badge").inner_text()
    forbidden = FORBIDDEN[role]
    if forbidden:
        response = ui.goto(forbidden)
        assert response.status == 403
        assert ui.page.get_by_role("heading", name="Forbidden").is_visible()
        assert "does not allow" in ui.page.inner_text("main")


def test_wrong_password_is_refused_with_a_clear_message(ui, build):
    user = build.user(role="biller")
    ui.goto("/login")
    ui.page.get_by_label("E-mail").fill(user.email)
    ui.page.get_by_label("Password").fill("not-the-password")
    ui.click(ui.page.get_by_role("button", name="Sign in"))
    assert "do not match" in ui.page.inner_text("main")
