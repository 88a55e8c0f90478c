"""The polling job's work (``portal.numbers.polling``) on an injected clock, SQLite and
PostgreSQL: which rentals it asks about, what it records (every SMS once, several per
activation), windows it expires and activations it finishes, the timeline it writes; the
upstream's backoff table; the ticker's lease; and the demo processor's clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from portal.jobs import leases, ticker
from portal.money import demo_expiry, ledger
from portal.numbers import health, polling, rentals, timeline
from portal.numbers.sms import Message, ProviderUnavailable, Simulator, SimulatorConfig, Status
from portal.store.models import Deposit, Lease, RentalEvent, RentalMessage
from test_rentals import SIM_CONFIG, T0, WINDOW, Clock, ann, fund, make_user, shop  # noqa: F401 (fixtures)


class Upstream:
    """A provider whose statuses a test sets per activation; it counts its calls."""

    def __init__(self, simulator):
        self.simulator, self.says, self.batches, self.finished = simulator, {}, 0, []
        self.failing = False

    def rent(self, **kwargs):
        return self.simulator.rent(**kwargs)

    def statuses(self, activation_ids):
        self.batches += 1
        if self.failing:
            raise ProviderUnavailable("down")
        return {a: self.says.get(a, Status("waiting")) for a in activation_ids}

    def status(self, activation_id):
        return self.statuses([activation_id])[activation_id]

    def finish(self, activation_id):
        self.finished.append(activation_id)


@pytest.fixture
def clock():
    return Clock(T0)


@pytest.fixture
def upstream(clock):
    return Upstream(Simulator(SimulatorConfig.parse(SIM_CONFIG), now=clock))


def rent(user, upstream, clock, service="wa"):
    return rentals.rent(user, "US", service, provider=upstream, now=clock())


def sms(*codes):
    return Status("received", tuple(Message(f"Your code {c}", c) for c in codes))


def poll(upstream, clock, seconds):
    clock.at = T0 + timedelta(seconds=seconds)
    return polling.poll(provider=upstream, now=clock())


def kinds(rental):
    return [event.kind for event in timeline.of(rental.id)]


def test_one_call_per_poll_for_any_number_of_rentals(ann, upstream, clock):
    fund(ann, 10_000, "more")
    for _ in range(25):
        rent(ann, upstream, clock)
    report = poll(upstream, clock, 10)
    assert (report.asked, upstream.batches) == (25, 1)


def test_every_sms_is_recorded_once_and_more_may_come_within_the_window(ann, upstream, clock):
    rental = rent(ann, upstream, clock)
    upstream.says[rental.activation_id] = sms("111")
    assert poll(upstream, clock, 30).received == 1
    assert poll(upstream, clock, 32).received == 0  # the same SMS again: nothing new
    upstream.says[rental.activation_id] = sms("111", "222")
    poll(upstream, clock, 60)
    codes = [m.code for m in rentals.messages_of([rental.id])[rental.id]]
    assert codes == ["111", "222"] and RentalMessage.select().count() == 2
    assert kinds(rental) == ["requested", "issued", "sms", "sms"]
    assert upstream.finished == []  # the window lasts: the activation stays open


def test_a_received_activation_is_finished_when_its_window_ends_and_never_asked_again(ann, upstream, clock):
    rental = rent(ann, upstream, clock)
    upstream.says[rental.activation_id] = sms("111")
    poll(upstream, clock, 30)
    report = poll(upstream, clock, WINDOW.total_seconds())
    assert report.finished == 1 and upstream.finished == [rental.activation_id]
    assert kinds(rental)[-1] == "finished_upstream"
    assert poll(upstream, clock, WINDOW.total_seconds() + 2).asked == 0


def test_a_window_that_passes_expires_the_rental_once_and_a_late_sms_still_counts(ann, upstream, clock):
    rental = rent(ann, upstream, clock)
    assert poll(upstream, clock, WINDOW.total_seconds()).expired == 1
    assert poll(upstream, clock, WINDOW.total_seconds() + 2).expired == 0
    assert kinds(rental) == ["requested", "issued", "window_passed"]
    upstream.says[rental.activation_id] = sms("333")
    assert poll(upstream, clock, WINDOW.total_seconds() + 60).received == 1
    stored = rentals.for_any_user().where(rentals.Rental.id == rental.id).get()
    assert stored.state == "received"


def test_an_expired_rental_is_asked_about_until_the_grace_after_its_window(ann, upstream, clock):
    rent(ann, upstream, clock)
    grace = (WINDOW + rentals.LATE_SMS_GRACE).total_seconds()
    assert poll(upstream, clock, grace - 1).asked == 1
    assert poll(upstream, clock, grace + 1).asked == 0


def test_a_refunded_rental_is_closed_and_its_timeline_tells_the_refund(ann, upstream, clock):
    rental = rent(ann, upstream, clock)
    clock.at = T0 + WINDOW
    upstream.says[rental.activation_id] = Status("cancelled")
    upstream.cancel = lambda activation_id: Status("cancelled")
    outcome = rentals.request_refund(ann, rental.reference, provider=upstream, now=clock())
    assert outcome.credited
    assert kinds(rental)[-3:] == ["refund_requested", "cancelled_upstream", "credited"]
    assert poll(upstream, clock, WINDOW.total_seconds() + 2).asked == 0
    with pytest.raises(Exception):  # the timeline is append-only: the database refuses
        RentalEvent.update(kind="issued").where(RentalEvent.rental == rental.id).execute()


def test_a_failing_upstream_is_backed_off_and_renting_fails_fast_meanwhile(ann, upstream, clock):
    rental = rent(ann, upstream, clock)
    upstream.failing = True
    assert poll(upstream, clock, 10).failed == "provider.unavailable"
    assert poll(upstream, clock, 11).failed == "backing off" and upstream.batches == 1
    balance = ledger.balance(ann.id)
    with pytest.raises(rentals.RentalRefused) as refused:
        rentals.rent(ann, "US", "wa", provider=upstream, now=T0 + timedelta(seconds=11))
    assert refused.value.reason == "rental.provider_unavailable" and ledger.balance(ann.id) == balance
    assert poll(upstream, clock, WINDOW.total_seconds()).expired == 1  # the clock goes on without it
    upstream.failing = False
    assert poll(upstream, clock, WINDOW.total_seconds() + 60).failed == ""
    assert not health.failing("simulator", clock())
    assert rental.state == "waiting"


# failures in a row -> seconds left alone
BACKOFFS = [(1, 2), (2, 4), (3, 8), (4, 16), (5, 32), (6, 60), (20, 60)]


@pytest.mark.parametrize("failures, seconds", BACKOFFS)
def test_upstream_backoff(failures, seconds):
    assert health.backoff(failures) == timedelta(seconds=seconds)


def test_a_lease_has_one_holder_until_it_lapses(connected):
    assert leases.take("ticker", "a", 10, T0)
    assert leases.take("ticker", "a", 10, T0 + timedelta(seconds=5))  # renewed
    assert not leases.take("ticker", "b", 10, T0 + timedelta(seconds=14))
    assert leases.take("ticker", "b", 10, T0 + timedelta(seconds=16))  # a's lapsed
    leases.release("ticker", "a")  # not a's any more: nothing happens
    assert Lease.get().holder == "b"


def test_the_ticker_ticks_on_its_beat_and_a_second_one_waits_then_gives_up(connected):
    now = [0.0]
    beats = []
    ticks = ticker.run(lambda: beats.append(now[0]), run_seconds=10, tick_seconds=2,
                       clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    assert ticks == 5 and beats == [0, 2, 4, 6, 8]
    assert Lease.select().count() == 0  # released at the end
    leases.take(ticker.NAME, "another", 60)
    waited = [0.0]
    assert ticker.run(lambda: beats.append("no"), clock=lambda: waited[0],
                      sleep=lambda s: waited.__setitem__(0, waited[0] + s)) == 0
    assert waited[0] > ticker.HANDOVER_SECONDS and "no" not in beats


def test_a_tick_that_fails_does_not_stop_the_ticker(connected):
    now = [0.0]
    calls = []

    def work():
        calls.append(1)
        raise RuntimeError("boom")

    assert ticker.run(work, run_seconds=6, tick_seconds=2, clock=lambda: now[0],
                      sleep=lambda s: now.__setitem__(0, now[0] + s)) == 3


class DemoCard:
    def __init__(self):
        self.expired = []

    def cancel_checkout(self, **fields):
        self.expired.append(fields["deposit_reference"])


def test_demo_checkouts_unpaid_for_a_day_expire(connected):
    user = make_user()
    now = datetime.now(timezone.utc)
    fresh = Deposit.create(reference="dep_fresh", user=user, method="card", amount_cents=500, currency="usd",
                           state="checkout", processor_ref="cs_demo_1", terms_version="2026-11-24",
                           created_at=now - timedelta(hours=23))
    stale = Deposit.create(reference="dep_stale", user=user, method="card", amount_cents=500, currency="usd",
                           state="checkout", processor_ref="cs_demo_2", terms_version="2026-11-24",
                           created_at=now - timedelta(hours=25))
    card = DemoCard()
    assert demo_expiry.expire_stale(card, None, now) == 1
    assert card.expired == [stale.reference] and fresh.reference not in card.expired


def test_dispute_evidence_tells_each_rentals_timeline(ann, upstream, clock):
    from portal.money import dispute_evidence
    rental = rent(ann, upstream, clock)
    upstream.says[rental.activation_id] = sms("777")
    poll(upstream, clock, 30)
    deposit = Deposit(reference="dep_x", user=ann, method="card", amount_cents=1000, currency="usd",
                      state="succeeded", terms_version="2026-11-24", created_at=T0, credited_at=T0)
    facts = dispute_evidence.Facts(
        customer=ann, deposit=deposit, terms_url="https://x/t", deposit_terms_url="https://x/t",
        consents=[], rentals=list(rentals.for_user(ann.id)), entries=[], refund_tickets=[],
        timelines=timeline.of_many([rental.id]))
    log = dispute_evidence.evidence_fields(facts)["access_activity_log"]
    assert "timeline: 2026-11-24 12:00:00 UTC requested (US/wa); 2026-11-24 12:00:00 UTC issued" in log
    assert "2026-11-24 12:00:30 UTC sms (poll)" in log
