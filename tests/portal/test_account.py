"""The account page's forms: password changes (a table of bad inputs) and the demo
processor's actions that do not exist."""

from __future__ import annotations

import pytest

from portal.accounts import users
from portal.store import db
from portal.store.models import Deposit, User
from portal_testing import PASSWORD

BAD_PASSWORD_CHANGES = [
    ("wrong current", dict(current_password="not my password"), "The current password is not correct."),
    ("short new", dict(new_password="short", confirm_password="short"), "Use at least 10 characters."),
    ("mismatch", dict(confirm_password="something else entirely"), "The two new passwords differ."),
    ("empty", dict(current_password="", new_password="", confirm_password=""), "The current password is not correct."),
]


@pytest.mark.parametrize("case, change, message", BAD_PASSWORD_CHANGES, ids=[c[0] for c in BAD_PASSWORD_CHANGES])
def test_bad_password_changes_answer_in_the_form_and_change_nothing(customer, case, change, message):
    customer.refresh_token("/account")
    data = {"current_password": PASSWORD, "new_password": "a brand new password",
            "confirm_password": "a brand new password", **change}
    response = customer.post("/account/password", data, htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and message in body
    assert body.lstrip().startswith('<form id="password-form"')
    with db.connection():
        assert users.hasher({}).verify(User.get().password_hash, PASSWORD)
    assert customer.get("/dashboard").status_code == 200


@pytest.mark.parametrize("method, path", [("card", "/demo/checkout/{ref}/refund"), ("BTC", "/demo/invoice/{ref}/steal")])
def test_unknown_demo_actions_answer_404(customer, method, path):
    customer.refresh_token("/deposits/new")
    customer.post("/deposits", {"amount": "25", "method": method}, htmx=True)
    with db.connection():
        deposit = Deposit.get()
    customer.refresh_token("/dashboard")
    assert customer.post(path.format(ref=deposit.processor_ref), htmx=True).status_code == 404
    with db.connection():
        assert Deposit.get().state == "checkout"


def test_a_demo_invoice_can_expire(customer):
    customer.refresh_token("/deposits/new")
    invoice = customer.post("/deposits", {"amount": "25", "method": "USDT"}, htmx=True).headers["HX-Redirect"]
    customer.refresh_token(invoice)
    response = customer.post(invoice + "/expire", htmx=True)
    assert "Expired" in response.get_data(as_text=True) and "HX-Trigger" not in response.headers
    with db.connection():
        assert Deposit.get().state == "expired"
