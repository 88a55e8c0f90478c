"""Rentals in the domain (``portal.numbers.rentals``) with the simulator on an injected clock:
the states and their transitions, renting (and every refusal, which charges nothing and
leaves nothing behind), the failed-SMS refund and the refund-abuse flag; on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from portal.numbers import catalog, rentals
from portal.money import ledger
from portal.store.fields import utcnow
from portal.store.models import Consent, Entry, LedgerTransaction, OutboxMessage, Rental, User
from portal.site_versions import Published
from portal.numbers.sms import ProviderError, Simulator, SimulatorConfig, Status

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)  # Terms 2026-11-24 are in force
NEVER, DELIVERS = "wa", "tg"  # the simulator config below: wa never delivers, tg after 30 s
SIM_CONFIG = "default=deliver:30s;wa=never;go=deliver:16m;no-numbers=US/ds"
WINDOW = timedelta(minutes=20)  # wa and tg use the Terms' default window in the demo catalog


class Clock:
    """A clock tests move by hand; the simulator and the domain read the same one."""

    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def make_user(email="ann@example.com", country="US", **fields) -> User:
    user = User.create(email=email, password_hash="x", country=country,
                       terms_version="2026-11-24", terms_sha256="0" * 64,
                       terms_accepted_at=T0 - timedelta(days=1), **fields)
    ledger.open_wallet(user)
    return user


def fund(user: User, cents: int, key: str = "fund") -> None:
    ledger.post(f"{key}:{user.id}", "deposit",
                [(ledger.house("card_clearing"), -cents), (ledger.wallet(user.id), cents)])


def written() -> tuple[int, int, int, int]:
    """Rentals, ledger transactions, entries and consents: what an operation left behind."""
    return (Rental.select().count(), LedgerTransaction.select().count(), Entry.select().count(),
            Consent.select().count())


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def sim(clock) -> Simulator:
    return Simulator(SimulatorConfig.parse(SIM_CONFIG), now=clock)


@pytest.fixture
def shop(connected):
    """The demo catalog, on sale from an hour before T0."""
    catalog.seed_demo(now=T0 - timedelta(hours=1))


@pytest.fixture
def ann(shop) -> User:
    user = make_user()
    fund(user, 1_000)
    return user


def rent(user, sim, clock, service=NEVER, country="US", **kwargs) -> Rental:
    return rentals.rent(user, country, service, provider=sim, now=clock(), **kwargs)


def price(country, service) -> int:
    return catalog.offer(country, service, T0).price_cents


# --- states and transitions ------------------------------------------------------------


def test_the_transition_table_only_moves_forward():
    assert set(rentals.TRANSITIONS) == set(rentals.STATES)
    for final in rentals.FINAL:
        assert rentals.TRANSITIONS[final] == frozenset()
    assert rentals.OPEN == tuple(s for s in rentals.STATES if s not in rentals.FINAL)


# (case, service, steps: (seconds after T0, action), final state, last reason, credited)
LIFECYCLES = [
    ("no SMS yet", NEVER, [(10, "sync")], "waiting", None, 0),
    ("window passed, no SMS", NEVER, [(1200, "sync")], "expired", None, 0),
    ("SMS received in time", DELIVERS, [(31, "sync")], "received", None, 0),
    ("SMS late: expired, then received", "go", [(901, "sync"), (961, "sync")], "received", None, 0),
    ("refund at the end of the window", NEVER, [(1200, "refund")], "refunded", "sms_refund.allowed", 1),
    ("refund after expiry", NEVER, [(1300, "sync"), (1400, "refund")], "refunded", "sms_refund.allowed", 1),
    ("refund one second early", NEVER, [(1199, "refund")], "waiting", "sms_refund.window_open", 0),
    ("refund after the SMS", DELIVERS, [(40, "sync"), (1300, "refund")], "received", "sms_refund.sms_received", 0),
    ("SMS arrives before the cancel", "go", [(961, "refund")], "received", "sms_refund.sms_received", 0),
    ("refund twice", NEVER, [(1200, "refund"), (1201, "refund")], "refunded", "sms_refund.already_refunded", 1),
    ("received, then polled again", DELIVERS, [(31, "sync"), (2000, "sync")], "received", None, 0),
]


@pytest.mark.parametrize("case, service, steps, state, reason, credits", LIFECYCLES,
                         ids=[c[0] for c in LIFECYCLES])
def test_rental_lifecycles(ann, sim, clock, case, service, steps, state, reason, credits):
    rental = rent(ann, sim, clock, service)
    paid = rental.price_cents
    assert ledger.balance(ann.id) == 1_000 - paid
    outcome = None
    for seconds, action in steps:
        clock.at = T0 + timedelta(seconds=seconds)
        before = rental.state
        if action == "sync":
            rental = rentals.sync(rental, provider=sim, now=clock())
        else:
            outcome = rentals.request_refund(ann, rental.reference, provider=sim, now=clock())
            rental = outcome.rental
        assert rental.state == before or rental.state in rentals.TRANSITIONS[before]
    assert rental.state == state
    assert (outcome.reason if outcome else None) == reason
    assert ledger.balance(ann.id) == 1_000 - paid + credits * paid
    assert ledger.check() == []


def test_a_received_sms_is_kept_in_full(ann, sim, clock):
    rental = rent(ann, sim, clock, DELIVERS)
    clock.at = T0 + timedelta(seconds=30)
    rental = rentals.sync(rental, provider=sim, now=clock())
    assert rental.sms_text.startswith(f"Telegram code: {rental.sms_code}\n\nDo not give this code")
    assert rental.received_at == T0 + timedelta(seconds=30)


def test_the_window_open_refusal_says_when_the_refund_opens(ann, sim, clock):
    rental = rent(ann, sim, clock)
    clock.at = T0 + timedelta(minutes=5)
    outcome = rentals.request_refund(ann, rental.reference, provider=sim, now=clock())
    assert outcome.deadline == T0 + WINDOW
    assert outcome.values == {"left": timedelta(minutes=15), "opens": T0 + WINDOW}


class Scripted:
    """A provider whose answers a test sets; it records what it was asked."""

    def __init__(self, status: Status | ProviderError):
        self.answer, self.calls = status, []

    def _reply(self, name):
        self.calls.append(name)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    def status(self, activation_id):
        return self._reply("status")

    def statuses(self, activation_ids):
        return {activation_id: self._reply("status") for activation_id in activation_ids}

    def cancel(self, activation_id):
        return self._reply("cancel")

    def finish(self, activation_id):
        self.calls.append("finish")


RECEIVED = Status("received", (rentals.Message("Your code is 4711", "4711"),))
# (state stored, what the provider says, action) -> state afterwards, credited
STATE_TABLE = [
    ("waiting", Status("waiting"), "sync", "expired", 0),
    ("waiting", RECEIVED, "sync", "received", 0),
    ("waiting", Status("cancelled"), "refund", "refunded", 1),
    ("waiting", RECEIVED, "refund", "received", 0),
    ("waiting", ProviderError("down"), "refund", "waiting", 0),
    ("waiting", Status("waiting"), "refund", "waiting", 0),
    ("expired", RECEIVED, "sync", "received", 0),
    ("expired", Status("cancelled"), "refund", "refunded", 1),
    ("expired", ProviderError("down"), "sync", "expired", 0),
    ("received", Status("cancelled"), "refund", "received", 0),
    ("received", Status("waiting"), "sync", "received", 0),
    ("refunded", RECEIVED, "sync", "refunded", 0),
    ("refunded", Status("cancelled"), "refund", "refunded", 0),
]


@pytest.mark.parametrize("stored, says, action, after, credits", STATE_TABLE,
                         ids=[f"{s}-{getattr(p, 'state', 'error')}-{a}" for s, p, a, *_ in STATE_TABLE])
def test_each_state_and_provider_answer(ann, sim, clock, stored, says, action, after, credits):
    rental = rent(ann, sim, clock)
    Rental.update(state=stored).where(Rental.id == rental.id).execute()
    rental = Rental.get_by_id(rental.id)
    provider = Scripted(says)
    clock.at = T0 + WINDOW + timedelta(seconds=1)
    if action == "sync":
        rental = rentals.sync(rental, provider=provider, now=clock())
    else:
        rental = rentals.request_refund(ann, rental.reference, provider=provider, now=clock()).rental
    assert rental.state == after
    assert after == stored or after in rentals.TRANSITIONS[stored]
    assert ledger.balance(ann.id) == 1_000 - rental.price_cents * (1 - credits)
    if stored in rentals.FINAL:
        assert provider.calls == []  # a final rental is never asked about again
    if after == "received" and stored != "received":
        assert "finish" not in provider.calls  # more SMS may come while the window lasts
        assert rentals.finish(rental, provider, clock())  # it has passed: done at the provider
        assert provider.calls[-1] == "finish"


# --- renting -----------------------------------------------------------------------------


def test_renting_debits_the_price_and_records_everything(ann, sim, clock):
    rental = rent(ann, sim, clock, "wa", "DE")
    assert rental.price_cents == catalog.demo_price(80, "DE") == price("DE", "wa")
    assert rental.phone.startswith("+49") and rental.activation_id.startswith("sim.DE.wa.")
    assert (rental.rented_at, rental.ends_at, rental.window_seconds) == (T0, T0 + WINDOW, 1200)
    assert rental.terms_version == "2026-11-24" and rental.provider == "simulator"
    assert ledger.balance(ann.id) == 1_000 - rental.price_cents
    assert ledger.house("sales").balance == rental.price_cents
    assert rental.charge_txn.idempotency_key == f"rental:{rental.id}:charge"
    assert ledger.check() == []


def test_a_rental_keeps_its_price_and_its_refund_credits_that_price(ann, sim, clock):
    rental = rent(ann, sim, clock)
    catalog.set_price("US", NEVER, "9.99", now=T0 + timedelta(seconds=1))
    assert price("US", NEVER) != 999  # T0 still sees the old price
    assert catalog.offer("US", NEVER, T0 + timedelta(seconds=2)).price_cents == 999
    clock.at = T0 + WINDOW
    outcome = rentals.request_refund(ann, rental.reference, provider=sim, now=clock())
    assert outcome.credited and outcome.values == {"price": rental.price_cents}
    assert ledger.balance(ann.id) == 1_000


class Broken:
    def __init__(self, error):
        self.error, self.cancelled = error, []

    def rent(self, *, country, service):
        raise self.error


def suspend(user, status="suspended", reason="Chargeback under review"):
    User.update(status=status, status_reason=reason).where(User.id == user.id).execute()


# (case, setup(user), country, service, provider or None for the simulator, reason, values)
REFUSALS = [
    ("short balance", None, "US", "wb", None, "rental.insufficient_funds", None),
    ("suspended", lambda u: suspend(u), "US", "wa", None, "rental.account_suspended",
     {"reason": "Chargeback under review"}),
    ("terminated", lambda u: suspend(u, "terminated", "Fraud"), "US", "wa", None,
     "rental.account_terminated", {"reason": "Fraud"}),
    ("restricted by a dispute", lambda u: suspend(u, "restricted", ""), "US", "wa", None,
     "rental.account_restricted", {"reason": "-"}),
    ("unknown service", None, "US", "zz", None, "rental.unknown_service", {}),
    ("unknown country", None, "XX", "wa", None, "rental.unknown_service", {}),
    ("country not on sale", None, "NG", "wa", None, "rental.unknown_service", {}),
    ("no numbers upstream", None, "US", "ds", None, "rental.no_numbers", {}),
    ("upstream down", None, "US", "wa", Broken(ProviderError("timeout")),
     "rental.provider_unavailable", {}),
]


@pytest.mark.parametrize("case, setup, country, service, provider, reason, values", REFUSALS,
                         ids=[c[0] for c in REFUSALS])
def test_refused_rentals_charge_nothing_and_leave_nothing(shop, sim, clock, case, setup, country,
                                                         service, provider, reason, values):
    user = make_user()
    fund(user, 1_000 if case != "short balance" else 10)
    if values is None:
        values = {"price": price("US", "wb")}  # $1.35, more than the $0.10 of this case
    if setup:
        setup(user)
    before = written()
    with pytest.raises(rentals.RentalRefused) as refused:
        rentals.rent(user, country, service, provider=provider or sim, now=clock())
    assert (refused.value.reason, refused.value.values) == (reason, values)
    assert written() == before
    assert ledger.balance(user.id) == (10 if case == "short balance" else 1_000)


def test_an_eu_customer_rents_only_with_consent_which_is_recorded(app, shop, sim, clock):
    eva = make_user("eva@example.com", country="AT")
    fund(eva, 500)
    before = written()
    with pytest.raises(rentals.RentalRefused) as refused:
        rent(eva, sim, clock)
    assert refused.value.reason == "eu.withdrawal_waiver" and written() == before
    consent = rentals.ConsentGiven(Published("2026-11-24", "en", "/en/x/", None, "a" * 64),
                                   "192.0.2.1", "test-agent")
    with app.test_request_context():  # the consent's receipt e-mail links to the portal
        rental = rent(eva, sim, clock, consent=consent)
    stored = Consent.get()
    assert (stored.action, stored.subject, stored.terms_sha256, stored.ip) == (
        "rental", rental.reference, "a" * 64, "192.0.2.1")
    assert OutboxMessage.get().key == f"mail:consent_receipt:{stored.receipt_id}"


def test_a_failed_debit_cancels_the_number_and_records_nothing(ann, sim, clock, monkeypatch):
    cancelled = []
    monkeypatch.setattr(sim, "cancel", lambda activation_id: cancelled.append(activation_id))

    def fail(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(ledger, "post", fail)
    before = written()
    with pytest.raises(RuntimeError):
        rent(ann, sim, clock)
    assert written() == before and len(cancelled) == 1
    assert ledger.balance(ann.id) == 1_000


def test_a_suspension_while_the_provider_answers_charges_nothing(ann, sim, clock, monkeypatch):
    cancelled = []
    monkeypatch.setattr(sim, "cancel", lambda activation_id: cancelled.append(activation_id))
    real_rent = sim.rent

    def suspended_meanwhile(**kwargs):
        suspend(ann)
        return real_rent(**kwargs)

    monkeypatch.setattr(sim, "rent", suspended_meanwhile)
    before = written()
    with pytest.raises(rentals.RentalRefused) as refused:
        rent(ann, sim, clock)
    assert refused.value.reason == "rental.account_suspended"
    assert written() == before and len(cancelled) == 1 and ledger.balance(ann.id) == 1_000


def test_a_repeated_request_key_rents_once(ann, sim, clock):
    key = rentals.make_request_key(ann.id, "form-token-123", "US", NEVER)
    first = rent(ann, sim, clock, request_key=key)
    again = rent(ann, sim, clock, request_key=key)
    assert again.id == first.id and Rental.select().count() == 1
    assert ledger.balance(ann.id) == 1_000 - first.price_cents


@pytest.mark.parametrize("token, usable", [("form-token-123", True), ("", False), ("short", False),
                                           ("bad token!", False), ("x" * 44, False)])
def test_request_keys_need_a_well_formed_token(token, usable):
    assert (rentals.make_request_key(1, token, "US", "wa") is not None) is usable


# --- refund abuse ------------------------------------------------------------------------

# (rentals in the period, of which refunded, flag reason or "" for none). Terms 2026-11-24:
# more than 10 refunds, or more than 50 % refunds once there are at least 6 rentals.
ABUSE = [
    (5, 5, ""),          # fewer than 6 rentals: the ratio does not count yet
    (6, 3, ""),          # exactly 50 %
    (6, 4, "abuse.refund_ratio"),
    (30, 10, ""),
    (30, 11, "abuse.too_many_refunds"),
]


@pytest.mark.parametrize("count, refunded, flag", ABUSE, ids=[f"{c}-{r}" for c, r, _ in ABUSE])
def test_refunds_above_the_terms_thresholds_flag_the_account(ann, sim, clock, count, refunded, flag):
    fund(ann, 100_000, "more")
    made = [rent(ann, sim, clock) for _ in range(count)]
    clock.at = T0 + WINDOW
    for rental in made[:refunded]:
        assert rentals.request_refund(ann, rental.reference, provider=sim, now=clock()).credited
    user = User.get_by_id(ann.id)
    assert user.flag_reason == flag
    assert (user.flagged_at == clock.at) if flag else user.flagged_at is None


def test_refunds_outside_the_abuse_period_do_not_count(ann, sim, clock):
    fund(ann, 100_000, "more")
    for _ in range(6):
        rent(ann, sim, clock)
    clock.at = T0 + timedelta(days=31)
    late = [rent(ann, sim, clock) for _ in range(2)]
    clock.at += WINDOW
    for rental in late:
        rentals.request_refund(ann, rental.reference, provider=sim, now=clock())
    assert User.get_by_id(ann.id).flagged_at is None  # 2 of 2 recent, but fewer than 6


def test_only_the_owner_finds_a_rental(ann, sim, clock):
    rental = rent(ann, sim, clock)
    bob = make_user("bob@example.com")
    assert rentals.request_refund(bob, rental.reference, provider=sim, now=T0 + WINDOW) is None
    assert rentals.one_for_user(bob.id, rental.reference).first() is None


def test_shown_state_and_countdown(ann, sim, clock):
    rental = rent(ann, sim, clock)
    assert rentals.shown_state(rental, T0) == "waiting" and rentals.seconds_left(rental, T0) == 1200
    assert rentals.seconds_left(rental, T0 + timedelta(seconds=1199, milliseconds=1)) == 1
    assert rentals.shown_state(rental, T0 + WINDOW) == "expired"
    assert rentals.seconds_left(rental, T0 + WINDOW + timedelta(hours=1)) == 0


def test_real_clock_default(ann):
    rental = rentals.rent(ann, "US", NEVER, provider=Simulator(SimulatorConfig.parse(SIM_CONFIG)))
    assert abs((rental.rented_at - utcnow()).total_seconds()) < 5
