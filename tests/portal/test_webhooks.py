"""Signed processor callbacks: tampered, stale, duplicate, out of order and concurrent
deliveries; a deposit is credited exactly once, with the amount actually settled."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from portal.store import db
from portal.money import ledger
from portal.store.models import Deposit, Entry, LedgerTransaction
from portal.payments import demo
from portal.payments.crypto import SIGNATURE_HEADER


def open_deposit(person, method="card", amount="25"):
    response = person.deposit(amount, method)
    assert response.status_code == 204, response.get_data(as_text=True)
    with db.connection():
        return Deposit.select().order_by(Deposit.id.desc()).first()


def card_event(deposit, kind="completed", amount=None, created=None, event_id="evt_1"):
    created = created or int(time.time())
    common = dict(deposit_reference=deposit.reference, session_id=deposit.processor_ref,
                  amount_cents=amount or deposit.amount_cents, currency="usd",
                  event_id=event_id, created=created)
    if kind == "completed":
        return demo.checkout_completed_event(payment_intent="pi_test_1", **common)
    return demo.checkout_expired_event(**common)


def send_stripe(client, payload, secret, timestamp=None, header=None):
    timestamp = timestamp or int(time.time())
    if header is None:
        header = demo.stripe_signature_header(payload, secret, timestamp)
    headers = {"Content-Type": "application/json"}
    if header:
        headers["Stripe-Signature"] = header
    return client.post("/webhooks/stripe", data=payload, headers=headers)


def wallet_state(user_email="ann@example.com"):
    with db.connection():
        deposit_count = LedgerTransaction.select().count()
        entries = Entry.select().count()
        problems = ledger.check()
    return deposit_count, entries, problems


@pytest.fixture
def card_deposit(customer):
    return open_deposit(customer)


def secret(app, name="STRIPE_WEBHOOK_SECRET"):
    return app.config[name]


def balance_of(deposit):
    with db.connection():
        return ledger.balance(deposit.user_id)


def state_of(deposit):
    with db.connection():
        return Deposit.get_by_id(deposit.id)


def test_a_paid_checkout_credits_the_wallet_and_keeps_the_payment_intent(app, card_deposit):
    response = send_stripe(app.test_client(), card_event(card_deposit), secret(app))
    assert response.status_code == 200 and response.json["credited"] is True
    stored = state_of(card_deposit)
    assert (stored.state, stored.credited_cents, stored.payment_intent) == ("succeeded", 2500, "pi_test_1")
    assert balance_of(card_deposit) == 2500


def test_duplicate_deliveries_credit_once(app, card_deposit):
    client = app.test_client()
    payload = card_event(card_deposit)
    answers = [send_stripe(client, payload, secret(app)).json["credited"] for _ in range(3)]
    answers.append(send_stripe(client, card_event(card_deposit, event_id="evt_2"), secret(app)).json["credited"])
    assert answers == [True, False, False, False]
    assert balance_of(card_deposit) == 2500
    assert wallet_state()[:2] == (1, 2)


REFUSED = [
    ("tampered body", lambda p, s, t: (p.replace(b"2500", b"9900"), demo.stripe_signature_header(p, s, t))),
    ("wrong secret", lambda p, s, t: (p, demo.stripe_signature_header(p, "whsec_wrong", t))),
    ("stale signature", lambda p, s, t: (p, demo.stripe_signature_header(p, s, t - 301))),
    ("from the future", lambda p, s, t: (p, demo.stripe_signature_header(p, s, t + 301))),
    ("no signature", lambda p, s, t: (p, "")),
    ("garbage signature", lambda p, s, t: (p, "t=abc,v1=zz")),
]


@pytest.mark.parametrize("case, forge", REFUSED, ids=[c[0] for c in REFUSED])
def test_unverifiable_stripe_events_answer_400_and_write_nothing(app, card_deposit, case, forge):
    now = int(time.time())
    payload, header = forge(card_event(card_deposit), secret(app), now)
    headers = {"Content-Type": "application/json"}
    if header:
        headers["Stripe-Signature"] = header
    response = app.test_client().post("/webhooks/stripe", data=payload, headers=headers)
    assert response.status_code == 400
    assert state_of(card_deposit).state == "checkout"
    assert wallet_state() == (0, 0, [])


def test_an_expired_event_after_the_payment_does_not_undo_it(app, card_deposit):
    client = app.test_client()
    send_stripe(client, card_event(card_deposit), secret(app))
    late = send_stripe(client, card_event(card_deposit, "expired", event_id="evt_late"), secret(app))
    assert late.status_code == 200
    assert state_of(card_deposit).state == "succeeded"
    assert balance_of(card_deposit) == 2500


def test_a_payment_arriving_after_an_expiry_event_is_still_credited(app, card_deposit):
    client = app.test_client()
    send_stripe(client, card_event(card_deposit, "expired", event_id="evt_exp"), secret(app))
    assert state_of(card_deposit).state == "expired"
    send_stripe(client, card_event(card_deposit), secret(app))
    assert state_of(card_deposit).state == "succeeded"
    assert balance_of(card_deposit) == 2500


def test_an_event_for_an_unknown_deposit_is_acknowledged_and_ignored(app, card_deposit):
    payload = card_event(card_deposit).replace(card_deposit.reference.encode(), b"dep_unknown")
    response = send_stripe(app.test_client(), payload, secret(app))
    assert response.status_code == 200 and response.json["deposit"] is None
    assert wallet_state() == (0, 0, [])


def test_200_concurrent_duplicate_deliveries_credit_exactly_once(app, card_deposit):
    payload = card_event(card_deposit)
    signing_key = secret(app)
    barrier = threading.Barrier(200)

    def deliver(_):
        client = app.test_client()
        header = demo.stripe_signature_header(payload, signing_key, int(time.time()))
        barrier.wait()
        return client.post("/webhooks/stripe", data=payload, headers={
            "Stripe-Signature": header, "Content-Type": "application/json"})

    with ThreadPoolExecutor(max_workers=200) as pool:
        responses = list(pool.map(deliver, range(200)))
    assert [r.status_code for r in responses] == [200] * 200
    assert sum(1 for r in responses if r.json["credited"]) == 1
    assert balance_of(card_deposit) == 2500
    assert wallet_state() == (1, 2, [])


# --- crypto ---------------------------------------------------------------------------------


def ipn(deposit, status, paid_minor, pay_minor=1_000_000, price_cents=None):
    return demo.ipn_body(payment_id=4242, order_id=deposit.reference, status=status,
                         pay_currency=deposit.method, price_amount_cents=price_cents or deposit.amount_cents,
                         pay_amount_minor=pay_minor, actually_paid_minor=paid_minor)


def send_ipn(client, body, signing_key, signature=None):
    signed = demo.signed_ipn(body, signing_key)
    return client.post("/webhooks/crypto", data=signed.body, headers={
        SIGNATURE_HEADER: signature if signature is not None else signed.signature,
        "Content-Type": "application/json"})


@pytest.fixture
def eth_deposit(customer):
    return open_deposit(customer, method="ETH", amount="40")


def test_a_finished_crypto_payment_credits_the_usd_settled_net_of_network_fees(app, eth_deposit):
    # 0.99 of the invoiced coins arrived: 99% of $40.00 is credited, the coins recorded exactly.
    client = app.test_client()
    body = ipn(eth_deposit, "finished", paid_minor=990_000_000_000_000_000, pay_minor=10**18)
    response = send_ipn(client, body, secret(app, "CRYPTO_IPN_SECRET"))
    assert response.status_code == 200 and response.json["credited"] is True
    stored = state_of(eth_deposit)
    assert (stored.state, stored.credited_cents, stored.paid_minor, stored.pay_currency) == (
        "succeeded", 3960, "990000000000000000", "ETH")
    assert balance_of(eth_deposit) == 3960
    again = send_ipn(client, body, secret(app, "CRYPTO_IPN_SECRET"))
    assert again.json["credited"] is False and balance_of(eth_deposit) == 3960


@pytest.mark.parametrize("status", ["waiting", "confirming", "confirmed", "sending", "partially_paid"])
def test_unfinished_crypto_statuses_are_recorded_but_credit_nothing(app, eth_deposit, status):
    response = send_ipn(app.test_client(), ipn(eth_deposit, status, paid_minor=10),
                        secret(app, "CRYPTO_IPN_SECRET"))
    assert response.status_code == 200
    stored = state_of(eth_deposit)
    assert (stored.state, stored.processor_status) == ("checkout", status)
    assert wallet_state() == (0, 0, [])


@pytest.mark.parametrize("status, state", [("failed", "failed"), ("expired", "expired")])
def test_failed_or_expired_crypto_payments_close_the_deposit(app, eth_deposit, status, state):
    send_ipn(app.test_client(), ipn(eth_deposit, status, paid_minor=0), secret(app, "CRYPTO_IPN_SECRET"))
    assert state_of(eth_deposit).state == state
    assert wallet_state() == (0, 0, [])


def test_crypto_credit_never_exceeds_the_invoiced_amount(app, eth_deposit):
    body = ipn(eth_deposit, "finished", paid_minor=10**18, pay_minor=10**18, price_cents=900_00)
    send_ipn(app.test_client(), body, secret(app, "CRYPTO_IPN_SECRET"))
    assert balance_of(eth_deposit) == 4000


@pytest.mark.parametrize("case", ["tampered", "wrong secret", "missing"])
def test_unverifiable_ipns_answer_400_and_write_nothing(app, eth_deposit, case):
    body = ipn(eth_deposit, "finished", paid_minor=10**6)
    signing_key = secret(app, "CRYPTO_IPN_SECRET")
    client = app.test_client()
    if case == "tampered":
        signed = demo.signed_ipn(body, signing_key)
        raw = json.loads(signed.body)
        raw["price_amount"] = 999
        response = client.post("/webhooks/crypto", data=json.dumps(raw, sort_keys=True),
                               headers={SIGNATURE_HEADER: signed.signature})
    elif case == "wrong secret":
        response = send_ipn(client, body, "not-the-secret")
    else:
        response = send_ipn(client, body, signing_key, signature="")
    assert response.status_code == 400
    assert state_of(eth_deposit).state == "checkout"
    assert wallet_state() == (0, 0, [])


def test_200_concurrent_duplicate_ipns_credit_exactly_once(app, eth_deposit):
    signed = demo.signed_ipn(ipn(eth_deposit, "finished", paid_minor=10**6, pay_minor=10**6),
                             secret(app, "CRYPTO_IPN_SECRET"))
    barrier = threading.Barrier(200)

    def deliver(_):
        client = app.test_client()
        barrier.wait()
        return client.post("/webhooks/crypto", data=signed.body,
                           headers={SIGNATURE_HEADER: signed.signature})

    with ThreadPoolExecutor(max_workers=200) as pool:
        responses = list(pool.map(deliver, range(200)))
    assert [r.status_code for r in responses] == [200] * 200
    assert sum(1 for r in responses if r.json["credited"]) == 1
    assert balance_of(eth_deposit) == 4000


def test_crypto_callbacks_out_of_order(app, eth_deposit):
    client, signing_key = app.test_client(), secret(app, "CRYPTO_IPN_SECRET")
    send_ipn(client, ipn(eth_deposit, "expired", paid_minor=0), signing_key)
    send_ipn(client, ipn(eth_deposit, "finished", paid_minor=10**6, pay_minor=10**6), signing_key)
    send_ipn(client, ipn(eth_deposit, "confirming", paid_minor=5), signing_key)  # late, stale
    stored = state_of(eth_deposit)
    assert (stored.state, stored.processor_status, stored.paid_minor) == ("succeeded", "finished", "1000000")
    assert balance_of(eth_deposit) == 4000


def test_a_delayed_payment_is_credited_when_it_succeeds_not_before(app, card_deposit):
    client, now = app.test_client(), int(time.time())
    common = dict(deposit_reference=card_deposit.reference, session_id=card_deposit.processor_ref,
                  payment_intent="pi_async", amount_cents=2500, currency="usd", created=now)
    completed = json.loads(demo.checkout_event("checkout.session.completed", event_id="evt_a", **common))
    completed["data"]["object"]["payment_status"] = "unpaid"  # a delayed payment method
    unpaid = json.dumps(completed).encode()
    assert send_stripe(client, unpaid, secret(app)).json["credited"] is False
    assert (state_of(card_deposit).state, balance_of(card_deposit)) == ("checkout", 0)
    succeeded = demo.checkout_event("checkout.session.async_payment_succeeded", event_id="evt_b", **common)
    assert send_stripe(client, succeeded, secret(app)).json["credited"] is True
    assert (state_of(card_deposit).state, balance_of(card_deposit)) == ("succeeded", 2500)


def test_a_failed_delayed_payment_fails_the_deposit(app, card_deposit):
    failed = demo.checkout_event(
        "checkout.session.async_payment_failed", event_id="evt_f",
        deposit_reference=card_deposit.reference, session_id=card_deposit.processor_ref,
        payment_intent="pi_async", amount_cents=2500, currency="usd", created=int(time.time()))
    send_stripe(app.test_client(), failed, secret(app))
    assert state_of(card_deposit).state == "failed"
    assert wallet_state() == (0, 0, [])
