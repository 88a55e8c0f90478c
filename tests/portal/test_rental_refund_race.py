"""Exactly one credit per rental: 500 refund POSTs of one expired rental, sent at once from
32 threads (each its own browser session cookie and connection), credit its price once, on
SQLite and on PostgreSQL. Every other answer is a refusal saying it was already refunded."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from portal.store import db
from portal.money import ledger
from portal.store.models import LedgerTransaction, Rental
from test_rentals_web import balance, fund, rented_ago, shop  # noqa: F401 (a fixture)

POSTS, THREADS = 500, 32


def test_500_concurrent_refund_posts_credit_once(shop, customer, app):
    fund(1_000)
    reference = rented_ago(timedelta(minutes=21))
    customer.refresh_token("/rentals")
    cookie = customer.client.get_cookie("portal_session").value
    token = customer.token
    start = threading.Barrier(THREADS)
    local = threading.local()

    def post(_index):
        if not hasattr(local, "client"):
            local.client = app.test_client()
            local.client.set_cookie("portal_session", cookie, domain="localhost")
            start.wait()
        response = local.client.post(f"/rentals/{reference}/refund",
                                     headers={"X-CSRFToken": token, "HX-Request": "true"})
        return response.status_code, response.headers.get("HX-Trigger"), response.get_data(as_text=True)

    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(post, range(POSTS)))

    credited = [a for a in answers if a[0] == 200]
    assert len(credited) == 1 and credited[0][1] == "balance-changed"
    assert "$1.20 was credited to your balance." in credited[0][2]
    refused = [a for a in answers if a[0] != 200]
    assert {a[0] for a in refused} == {409}
    assert all("This number has already been refunded." in a[2] for a in refused)
    assert balance() == 1_000
    with db.connection():
        rental = Rental.get(Rental.reference == reference)
        assert rental.state == "refunded"
        keys = [t.idempotency_key for t in LedgerTransaction.select().where(
            LedgerTransaction.kind == "rental_refund")]
        assert keys == [f"rental:{rental.id}:refund"]
        assert ledger.check() == []
