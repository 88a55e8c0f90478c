"""Rentals against a local fake upstream speaking the SMS-Activate protocol: every answer
of getNumber, getStatus and setStatus as the customer meets it. An upstream failure never
charges the customer, and a refund credits only after the upstream cancelled the number."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.money import ledger
from portal.numbers import rentals
from portal.store.models import Rental
from portal.numbers.sms import SmsActivateClient
from test_rentals import T0, WINDOW, ann, shop, written  # noqa: F401 (fixtures)
from tests.sms.fake_upstream import Reply, upstream  # noqa: F401 (a fixture)

TIMEOUT = 0.2


@pytest.fixture
def client(upstream) -> SmsActivateClient:
    return SmsActivateClient(upstream.url, upstream.api_key, timeout=TIMEOUT, retries=1,
                             backoff=0, sleep=lambda _s: None)


# (upstream's answer to getNumber, the reason the customer reads)
RENT_ANSWERS = [
    (Reply("NO_NUMBERS"), "rental.no_numbers"),
    (Reply("NO_BALANCE"), "rental.provider_unavailable"),
    (Reply("BAD_KEY"), "rental.provider_unavailable"),
    (Reply("BAD_SERVICE"), "rental.provider_unavailable"),
    (Reply("BANNED"), "rental.provider_unavailable"),
    (Reply("ERROR_SQL"), "rental.provider_unavailable"),
    (Reply("", status=500), "rental.provider_unavailable"),
    (Reply("ACCESS_NUMBER:1:not-a-phone"), "rental.provider_unavailable"),
    (Reply("<html>gateway</html>", status=502), "rental.provider_unavailable"),
    (Reply("ACCESS_NUMBER:70000001:447700900001", delay=TIMEOUT + 0.3), "rental.provider_unavailable"),
]


@pytest.mark.parametrize("reply, reason", RENT_ANSWERS, ids=[r.body[:20] or str(r.status) for r, _ in RENT_ANSWERS])
def test_upstream_refusals_and_failures_charge_nothing(ann, upstream, client, reply, reason):
    upstream.script("getNumber", reply)
    before = written()
    with pytest.raises(rentals.RentalRefused) as refused:
        rentals.rent(ann, "GB", "wa", provider=client, now=T0)
    assert refused.value.reason == reason
    assert written() == before and ledger.balance(ann.id) == 1_000


def test_a_number_from_the_upstream_is_rented_and_charged(ann, upstream, client):
    rental = rentals.rent(ann, "GB", "wa", provider=client, now=T0)
    assert (rental.activation_id, rental.phone, rental.provider) == ("70000001", "+447700900001", "sms-activate")
    assert upstream.calls("getNumber")[0]["country"] == "16"
    assert ledger.balance(ann.id) == 1_000 - rental.price_cents


@pytest.fixture
def rental(ann, client):
    return rentals.rent(ann, "GB", "wa", provider=client, now=T0)


# (what getStatus answers on a poll inside the window, the state afterwards)
STATUS_ANSWERS = [
    ("STATUS_WAIT_CODE", "waiting"),
    ("STATUS_WAIT_RESEND", "waiting"),
    ("STATUS_CANCEL", "waiting"),
    ("STATUS_OK:123456", "received"),
    ("STATUS_WAIT_RETRY:123456", "received"),
    ("ERROR_SQL", "waiting"),
    ("BAD_KEY", "waiting"),
    ("NO_ACTIVATION", "waiting"),
]


@pytest.mark.parametrize("answer, state", STATUS_ANSWERS)
def test_polling_reads_every_status_answer(rental, upstream, client, answer, state):
    upstream.script("getStatus", *[answer] * 3)
    upstream.script("getFullSms", "FULL_SMS:Your WhatsApp code is 123-456. Don't share this code")
    polled = rentals.sync(rental, provider=client, now=T0 + timedelta(minutes=1))
    assert polled.state == state
    if state == "received":
        assert polled.sms_text == "Your WhatsApp code is 123-456. Don't share this code"
        assert polled.sms_code == "123456"
        assert not upstream.calls("setStatus")  # further SMS may come within the window
        assert rentals.finish(polled, client, polled.ends_at)
        assert upstream.calls("setStatus")[-1]["status"] == "6"  # then told the upstream: done


def test_an_sms_without_full_text_shows_the_code(rental, upstream, client):
    upstream.full_sms = False
    upstream.deliver(rental.activation_id, "987654")
    polled = rentals.sync(rental, provider=client, now=T0 + timedelta(minutes=1))
    assert (polled.state, polled.sms_text, polled.sms_code) == ("received", "987654", "987654")


def test_a_refund_cancels_at_the_upstream_first_then_credits(rental, upstream, client, ann):
    outcome = rentals.request_refund(ann, rental.reference, provider=client, now=T0 + WINDOW)
    assert outcome.credited and outcome.rental.state == "refunded"
    assert upstream.activations[rental.activation_id].state == "cancelled"
    assert ledger.balance(ann.id) == 1_000


def test_a_code_that_arrived_before_the_cancel_is_shown_and_nothing_credited(rental, upstream, client, ann):
    upstream.deliver(rental.activation_id, "424242", "Your code 424242")
    outcome = rentals.request_refund(ann, rental.reference, provider=client, now=T0 + WINDOW)
    assert outcome.reason == "sms_refund.sms_received" and not outcome.credited
    assert (outcome.rental.state, outcome.rental.sms_text) == ("received", "Your code 424242")
    assert ledger.balance(ann.id) == 1_000 - rental.price_cents


@pytest.mark.parametrize("replies", [
    [Reply("EARLY_CANCEL_DENIED")],
    [Reply("BAD_STATUS")],
    [Reply("", status=503)] * 2,
    [Reply("ACCESS_CANCEL", delay=TIMEOUT + 0.3)] * 2,
], ids=["early-cancel-denied", "bad-status", "503", "slow"])
def test_a_cancel_the_upstream_does_not_confirm_credits_nothing_until_tried_again(
        rental, upstream, client, ann, replies):
    upstream.script("setStatus", *replies)
    outcome = rentals.request_refund(ann, rental.reference, provider=client, now=T0 + WINDOW)
    assert outcome.reason == "rental.refund_unavailable" and not outcome.credited
    assert Rental.get_by_id(rental.id).state == "waiting"
    assert ledger.balance(ann.id) == 1_000 - rental.price_cents
    upstream.activations[rental.activation_id].state = "waiting"  # whatever happened there
    again = rentals.request_refund(ann, rental.reference, provider=client, now=T0 + WINDOW)
    assert again.credited and ledger.balance(ann.id) == 1_000


def test_a_cancel_whose_answer_was_lost_still_credits_on_the_retry(rental, upstream, client, ann):
    upstream.activations[rental.activation_id].state = "cancelled"  # the first cancel got through
    outcome = rentals.request_refund(ann, rental.reference, provider=client, now=T0 + WINDOW)
    assert outcome.credited and ledger.balance(ann.id) == 1_000
