"""Dashboard, balance fragment, statement with running balance and CSV, and no IDOR."""

from __future__ import annotations

import csv
import io

import pytest

from portal_testing import Person
from portal.store import db
from portal.money import ledger
from portal.store.models import User


def credit(email, amounts):
    with db.connection():
        user = User.get(User.email == email)
        for index, cents in enumerate(amounts):
            ledger.post(f"test:{email}:{index}", "deposit",
                        [(ledger.house("card_clearing"), -cents), (ledger.wallet(user.id), cents)])


def test_the_balance_fragment_is_the_fragment_the_full_page_includes(customer):
    credit("ann@example.com", [1234])
    fragment = customer.get("/dashboard/balance", htmx=True).get_data(as_text=True).strip()
    assert fragment.startswith('<span id="balance"') and "$12.34" in fragment
    assert "<html" not in fragment
    assert fragment in customer.get("/dashboard").get_data(as_text=True)
    assert "HX-Request" in customer.get("/dashboard/balance", htmx=True).headers["Vary"]


def test_the_dashboard_lists_deposits_and_htmx_gets_the_list_alone(customer):
    customer.refresh_token("/deposits/new")
    customer.post("/deposits", {"amount": "25", "method": "card"}, htmx=True)
    page = customer.get("/dashboard").get_data(as_text=True)
    assert "Waiting for payment" in page and "$25.00" in page
    fragment = customer.get("/deposits", htmx=True).get_data(as_text=True).strip()
    assert fragment.startswith('<div id="deposit-list"') and "<html" not in fragment


def test_the_statement_pages_newest_first_with_a_running_balance(app, customer):
    app.config["STATEMENT_PAGE_SIZE"] = 2
    credit("ann@example.com", [100, 200, 300])
    first = customer.get("/statement").get_data(as_text=True)
    assert first.index("$6.00") < first.index("$3.00")  # balances after entry 3 and 2
    assert "?page=2" in first and "Older" in first
    second = customer.get("/statement?page=2", htmx=True).get_data(as_text=True)
    assert second.strip().startswith('<div id="statement">') and "$1.00" in second
    assert "Older" not in second and "Newer" in second


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999999999", "9" * 5000, "²", "١", "２"],
                         ids=lambda page: page[:12])
def test_odd_page_numbers_fall_back_to_the_first_page(customer, page):
    assert customer.get(f"/statement?page={page}").status_code == 200


def test_the_csv_export_holds_every_entry_in_cents(customer):
    credit("ann@example.com", [100, 250])
    response = customer.get("/statement.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["amount_cents"], r["balance_after_cents"]) for r in rows] == [("100", "100"), ("250", "350")]


PRIVATE_PAGES = ["/dashboard", "/dashboard/balance", "/deposits", "/deposits/new", "/statement",
                 "/statement.csv", "/account"]


@pytest.mark.parametrize("path", PRIVATE_PAGES)
def test_private_pages_need_a_login(person, path):
    response = person.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    htmx = person.get(path, htmx=True)
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"] == "/login"


def test_another_users_deposit_and_demo_pages_answer_404(app, customer):
    customer.refresh_token("/deposits/new")
    checkout = customer.post("/deposits", {"amount": "25", "method": "card"}, htmx=True).headers["HX-Redirect"]
    reference = customer.get("/deposits").get_data(as_text=True).split("/deposits/dep_")[1].split('"')[0]
    mallory = Person(app.test_client())
    mallory.register(email="mallory@example.com")
    assert mallory.get(f"/deposits/dep_{reference}").status_code == 404
    assert mallory.get(checkout).status_code == 404
    mallory.refresh_token("/dashboard")
    assert mallory.post(checkout + "/pay", htmx=True).status_code == 404
    with db.connection():
        assert ledger.balance(User.get(User.email == "ann@example.com").id) == 0
    assert customer.get(f"/deposits/dep_{reference}").status_code == 200


def test_demo_pages_do_not_exist_when_a_real_processor_is_configured(db_url, site_dir):
    from portal_testing import make_app

    real = make_app(db_url, site_dir, STRIPE_SECRET_KEY="sk_test", STRIPE_WEBHOOK_SECRET="whsec_real")
    someone = Person(real.test_client())
    someone.register()
    assert someone.get("/demo/checkout/cs_demo_anything").status_code == 404


def test_a_history_restore_gets_the_whole_page(customer):
    response = customer.get("/statement?page=1", htmx=True, headers={"HX-History-Restore-Request": "true"})
    assert "<html" in response.get_data(as_text=True)


def queries_of(person, path, caplog) -> int:
    import logging

    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        assert person.get(path).status_code == 200
    return sum(1 for record in caplog.records if record.name == "peewee")


@pytest.mark.parametrize("path", ["/dashboard", "/deposits"])
def test_the_deposit_pages_run_as_many_queries_for_one_deposit_as_for_many(app, customer, path, caplog):
    from card_refund_steps import paid_card_deposit, purchase, request_refund

    first = paid_card_deposit(customer, "10")
    with_one = queries_of(customer, path, caplog)
    for amount in ("11", "12", "13", "14"):
        paid_card_deposit(customer, amount)
    with db.connection():
        purchase(first.user_id, 100)
    assert request_refund(customer, paid_card_deposit(customer, "15")).status_code == 204
    paid_card_deposit(customer, "16", method="ETH")
    page = customer.get(path).get_data(as_text=True)
    assert page.count('class="refund-meter"') == 6 and "Refund requested" in page  # the card deposits
    assert queries_of(customer, path, caplog) == with_one
