"""Renting numbers and refunding failed SMS to the balance.

A rental moves only forward, by conditional UPDATEs (``WHERE state IN ...``)::

    waiting -> received (an SMS came: final, not refundable)
            -> expired  (the wait window passed with no SMS)
    expired -> received (the SMS came late, found by a poll or by the cancel of a refund)
    waiting | expired -> refunded (the price paid credited back, once; final)

Renting asks the provider for a number first, then debits the wallet and records the
rental in one database transaction; any provider error charges nothing, and a database
failure after the provider answered cancels the number (best effort). While the polling
job knows the upstream to be failing (``portal.numbers.health``), renting and refunding
answer at once that the provider is unavailable instead of waiting on it.

What the provider reports is recorded by ``record`` (from the polling job, a push, or the
cancel of a refund): every SMS once (``RentalMessage``), the first one moving the rental to
``received``; an activation may receive more until its window ends, when the provider is
told it is finished. A refund is decided by ``portal.policy.sms_refund_decision`` under the
rental's own clock, then the number is cancelled at the provider first: if an SMS arrived
meanwhile it is recorded and the refund refused; otherwise the rental moves to
``refunded`` and the price it was bought at is credited in the same transaction. The
conditional UPDATE lets exactly one of any number of concurrent requests credit, and the
ledger's idempotency key ``rental:<id>:refund`` backs it up. Each step is written to the
rental's timeline (``portal.numbers.timeline``). The database is the record; the provider
is asked, never trusted to remember.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from peewee import IntegrityError, fn

from portal.api import webhooks
from portal.consent import receipts
from portal.numbers import catalog, health, timeline
from portal.money import ledger, postings
from portal.store.db import as_model, as_models, compiled_sql, database, money_transaction
from portal.store.fields import utcnow
from portal.store.models import Rental, RentalMessage, Service, User
from portal.policy import (
    Decision, refund_abuse_decision, requires_withdrawal_waiver, sms_refund_decision,
    terms_in_force,
)
from portal.site_versions import Published
from portal.states import may_transact
from portal.numbers.sms import (
    Message, NoNumbers, ProviderError, ProviderUnavailable, Simulator, SmsActivateClient, SmsProvider,
    Status, provider_from_config,
)

log = logging.getLogger(__name__)

WAITING, RECEIVED, EXPIRED, REFUNDED = "waiting", "received", "expired", "refunded"
STATES = (WAITING, RECEIVED, EXPIRED, REFUNDED)
OPEN = (WAITING, EXPIRED)  # no SMS recorded, not refunded: the provider is still asked
FINAL = (RECEIVED, REFUNDED)
TRANSITIONS = {
    WAITING: frozenset({RECEIVED, EXPIRED, REFUNDED}),
    EXPIRED: frozenset({RECEIVED, REFUNDED}),
    RECEIVED: frozenset(),
    REFUNDED: frozenset(),
}
TOKEN = re.compile(r"[A-Za-z0-9_-]{8,43}")
# How long after its window an expired rental is still asked about (an SMS may come late,
# and the upstream keeps an unused activation about this long before cancelling it).
LATE_SMS_GRACE = timedelta(minutes=20)


class RentalRefused(Exception):
    """Nothing was rented or charged; ``reason`` is a message code, ``values`` fill it."""

    def __init__(self, reason: str, /, **values):
        super().__init__(reason)
        self.reason = reason
        self.values = values


@dataclass(frozen=True)
class ConsentGiven:
    """An EU consumer's consent to immediate performance, as the rent form recorded it (or
    the API consent that covers a rental through the API: its ``text``, no second mail)."""

    terms: Published
    ip: str
    user_agent: str
    text: str | None = None
    mail: bool = True


@dataclass(frozen=True)
class RefundOutcome:
    """What a refund request did: ``reason`` is a policy or message code."""

    rental: Rental
    reason: str
    credited: bool = False
    deadline: datetime | None = None
    values: dict = field(default_factory=dict)


# --- the provider --------------------------------------------------------------------


def provider_for(app) -> SmsProvider:
    """The app's SMS provider, built once from its config (tests may replace it in
    ``app.extensions["sms_provider"]``)."""
    if "sms_provider" not in app.extensions:
        app.extensions["sms_provider"] = provider_from_config(app.config)
    return app.extensions["sms_provider"]


def _current_provider() -> SmsProvider:
    from flask import current_app

    return provider_for(current_app)


def provider_name(provider: SmsProvider) -> str:
    if isinstance(provider, Simulator):
        return "simulator"
    if isinstance(provider, SmsActivateClient):
        return "sms-activate"
    return type(provider).__name__.lower()[:16]


def _cancel_quietly(provider: SmsProvider, activation_id: str) -> None:
    try:
        provider.cancel(activation_id)
    except ProviderError as error:
        log.warning("could not cancel activation %s: %s", activation_id, error)


# --- renting -------------------------------------------------------------------------


def new_reference() -> str:
    return "rent_" + secrets.token_urlsafe(18)


def make_request_key(user_id: int, token: str, country: str, service: str) -> str | None:
    """The idempotency key of one rent request (a form token per offer), or None when the
    token is missing or malformed."""
    if not TOKEN.fullmatch(token or ""):
        return None
    return f"{user_id}:{token}:{country}:{service}"[:96]


def _check_standing(user: User) -> None:
    status, reason = (User.select(User.status, User.status_reason)
                      .where(User.id == user.id).tuples().first())
    if not may_transact(status):
        code = {"terminated": "rental.account_terminated",
                "restricted": "rental.account_restricted"}.get(status, "rental.account_suspended")
        raise RentalRefused(code, reason=reason or "-")


def rent(user: User, country: str, service: str, *, consent: ConsentGiven | None = None,
         provider: SmsProvider | None = None, request_key: str | None = None,
         now: datetime | None = None) -> Rental:
    """Rent a number of ``country`` for ``service`` at its current price: the one domain
    entry point that debits a wallet for a number.

    Raises ``RentalRefused`` (nothing charged, nothing recorded) for an account that is
    not active, an offer not on sale, a missing EU consent, a short balance, or a provider
    with no numbers or in trouble. With a ``request_key``, a repeated request returns the
    rental the first one made.
    """
    now = now or utcnow()
    provider = provider or _current_provider()
    _check_standing(user)
    offer = catalog.offer(country, service, now)
    if offer is None:
        raise RentalRefused("rental.unknown_service")
    if requires_withdrawal_waiver(user.country) and consent is None:
        raise RentalRefused("eu.withdrawal_waiver")
    if request_key:
        earlier = Rental.get_or_none(Rental.request_key == request_key, Rental.user == user.id)
        if earlier is not None:
            return earlier
    if ledger.balance(user.id) < offer.price_cents:
        raise RentalRefused("rental.insufficient_funds", price=offer.price_cents)
    if health.failing(provider_name(provider), now):
        raise RentalRefused("rental.provider_unavailable")
    try:
        activation = provider.rent(country=country, service=service)
    except NoNumbers:
        raise RentalRefused("rental.no_numbers") from None
    except ProviderError as error:
        log.warning("rent %s/%s failed at the provider: %s", country, service, error)
        raise RentalRefused("rental.provider_unavailable") from None
    try:
        return _record(user, offer, activation, provider_name(provider), consent, request_key, now)
    except IntegrityError:
        _cancel_quietly(provider, activation.activation_id)
        earlier = request_key and Rental.get_or_none(Rental.request_key == request_key)
        if earlier:  # the same request, sent twice at once: the other one won
            return earlier
        raise
    except ledger.InsufficientFunds:
        _cancel_quietly(provider, activation.activation_id)
        raise RentalRefused("rental.insufficient_funds", price=offer.price_cents) from None
    except BaseException:
        _cancel_quietly(provider, activation.activation_id)
        raise


def _record(user, offer, activation, provider: str, consent, key, now) -> Rental:
    """Debit the wallet and create the rental (and the consent), all or nothing."""
    terms = terms_in_force(now)
    with money_transaction():
        _check_standing(user)  # again, inside the transaction: a suspension may have just come
        rental = Rental.create(
            reference=new_reference(), user=user, request_key=key, country=offer.country,
            service=offer.service, price=offer.price, price_cents=offer.price_cents,
            window_seconds=offer.service.wait_seconds, terms_version=terms.version,
            provider=provider, activation_id=activation.activation_id,
            phone=activation.phone[:20], state=WAITING, rented_at=now,
            ends_at=now + offer.window, updated_at=now,
        )
        posting = postings.rental_charge(rental, offer.country, offer.service.code)
        Rental.update(charge_txn=posting.txn).where(Rental.id == rental.id).execute()
        timeline.add(rental.id, "requested", now, f"{offer.country}/{offer.service.code}")
        timeline.add(rental.id, "issued", now, provider)
        if consent is not None:
            receipts.record(user, action="rental", subject=rental.reference, terms=consent.terms,
                            ip=consent.ip, user_agent=consent.user_agent, now=now,
                            text=consent.text, mail=consent.mail)
    return Rental.get_by_id(rental.id)


# --- following a rental --------------------------------------------------------------


def _reload(rental: Rental) -> Rental:
    return for_any_user().where(Rental.id == rental.id).get()


def fingerprint(message: Message) -> str:
    """What identifies one SMS of an activation, however often and whichever way it came."""
    return hashlib.sha256(f"{message.code or ''}\0{message.text}".encode()).hexdigest()


def record(rental: Rental, status: Status, source: str, now: datetime) -> Rental:
    """Record what the provider reports of ``rental``: each SMS not recorded yet, the first
    moving an open rental to ``received``; the rental as it is now."""
    if not status.messages:
        return rental
    with money_transaction():
        fresh = 0
        for message in status.messages:
            try:
                with database.atomic():
                    stored = RentalMessage.create(
                        rental=rental.id, fingerprint=fingerprint(message), text=message.text,
                        code=(message.code or "")[:32] or None,
                        received_at=message.received_at or now, recorded_at=now, source=source)
            except IntegrityError:  # recorded already (by a poll, a push or a cancel)
                continue
            timeline.add(rental.id, "sms", now, source)
            webhooks.queue_sms(rental, stored)  # the customer's webhook hears of it, once
            fresh += 1
        first = status.messages[0]
        Rental.update(
            state=RECEIVED, sms_text=first.text, sms_code=(first.code or "")[:32] or None,
            received_at=first.received_at or now, updated_at=now,
        ).where(Rental.id == rental.id, Rental.state.in_(OPEN)).execute()
    return _reload(rental) if fresh else rental


def messages_of(rental_ids) -> dict[int, list[RentalMessage]]:
    """Every SMS of these rentals, in the order they arrived, by rental id."""
    found: dict[int, list[RentalMessage]] = {rental_id: [] for rental_id in rental_ids}
    if found:
        for message in (RentalMessage.select().where(RentalMessage.rental.in_(list(found)))
                        .order_by(RentalMessage.received_at, RentalMessage.id)):
            found[message.rental_id].append(message)
    return found


def expire(rental: Rental, now: datetime) -> bool:
    """Move a waiting rental whose window has passed to ``expired``; True when this call did."""
    if rental.state != WAITING or now < rental.ends_at:
        return False
    with money_transaction():
        won = Rental.update(state=EXPIRED, updated_at=now).where(
            Rental.id == rental.id, Rental.state == WAITING).execute()
        if won:
            timeline.add(rental.id, "window_passed", now)
    return bool(won)


def live(provider: str, now: datetime):
    """The rentals to ask ``provider`` about: not closed, and waiting, received within its
    window, or expired within the grace after it."""
    return (Rental.select().where(
        Rental.provider == provider, Rental.closed_at.is_null(),
        ((Rental.state.in_((WAITING, RECEIVED)) & (Rental.ends_at > now))
         | (Rental.state.in_((WAITING, EXPIRED)) & (Rental.ends_at > now - LATE_SMS_GRACE))),
    ).order_by(Rental.id))


def passed_windows(provider: str, now: datetime):
    """Rentals of ``provider`` whose window has passed and that need a step: waiting ones
    (to expire) and received ones (to finish at the provider)."""
    return (Rental.select().where(
        Rental.provider == provider, Rental.closed_at.is_null(), Rental.ends_at <= now,
        Rental.state.in_((WAITING, RECEIVED))).order_by(Rental.id))


def finish(rental: Rental, provider: SmsProvider, now: datetime, *, asked: bool = False) -> bool:
    """Tell the provider a received rental's activation is done, once its window passed (or
    earlier, when the customer ``asked``: no more SMS wanted); True when it was closed now."""
    if rental.state != RECEIVED or rental.closed_at is not None or (now < rental.ends_at and not asked):
        return False
    try:
        provider.finish(rental.activation_id)
        detail = ""
    except ProviderError as error:  # the upstream closes it by itself in the end
        log.warning("could not finish activation %s: %s", rental.activation_id, error)
        detail = error.reason
    with money_transaction():
        won = Rental.update(closed_at=now).where(Rental.id == rental.id,
                                                 Rental.closed_at.is_null()).execute()
        if won:
            timeline.add(rental.id, "finished_upstream", now, detail)
    return bool(won)


def ask_again(rental: Rental, provider: SmsProvider, now: datetime) -> str | None:
    """Ask the upstream for another SMS on a rental that received one and is still open;
    the next SMS is then polled for (or pushed) as the first was, and ``retry_after`` holds
    how many had come when it was asked. None when asked, else why not: a reason code."""
    if rental.state != RECEIVED or rental.closed_at is not None or now >= rental.ends_at:
        return "rental.not_open"
    try:
        provider.retry(rental.activation_id)
    except ProviderUnavailable as error:
        log.warning("could not ask for another SMS on %s: %s", rental.activation_id, error)
        return "rental.provider_unavailable"
    except ProviderError as error:
        log.warning("the upstream refused another SMS on %s: %s", rental.activation_id, error)
        return "rental.not_open"
    count = RentalMessage.select().where(RentalMessage.rental == rental.id).count()
    with money_transaction():
        Rental.update(retry_after=count).where(Rental.id == rental.id).execute()
        timeline.add(rental.id, "another_sms_asked", now)
    return None


def _received_message(status) -> Message | None:
    if status.state in ("received", "finished") and status.messages:
        return status.messages[0]
    return None


def sync(rental: Rental, *, provider: SmsProvider | None = None,
         now: datetime | None = None) -> Rental:
    """Ask the provider about one open rental and record what changed (the polling job does
    this for all of them at once); a final rental is returned as it is. A provider error
    changes nothing but the clock's part (expiry)."""
    if rental.state not in OPEN:
        return rental
    now = now or utcnow()
    provider = provider or _current_provider()
    try:
        status = provider.status(rental.activation_id)
    except ProviderError as error:
        log.warning("status of %s failed: %s", rental.reference, error)
        status = Status("waiting")
    if _received_message(status) is not None:
        return record(rental, status, "poll", now)
    return _reload(rental) if expire(rental, now) else rental


def refund_decision(rental: Rental, now: datetime) -> Decision:
    """The policy's answer for this rental at ``now`` (from what the database records)."""
    return sms_refund_decision(
        rented_at=rental.rented_at, window=timedelta(seconds=rental.window_seconds),
        sms_received=rental.state == RECEIVED, already_refunded=rental.state == REFUNDED,
        now=now,
    )


def request_refund(user: User, reference: str, *, provider: SmsProvider | None = None,
                   now: datetime | None = None) -> RefundOutcome | None:
    """Refund a failed SMS to the balance, if the policy allows it; None when the user has
    no such rental. Whatever the outcome, at most one credit per rental ever happens."""
    rental = one_for_user(user.id, reference).first()
    if rental is None:
        return None
    now = now or utcnow()
    decision = refund_decision(rental, now)
    if not decision.allowed:
        return _refused(rental, decision, now)
    provider = provider or _current_provider()
    if health.failing(provider_name(provider), now):
        return RefundOutcome(rental, "rental.refund_unavailable")
    try:
        status = provider.cancel(rental.activation_id)
    except ProviderError as error:
        log.warning("cancel of %s failed: %s", rental.reference, error)
        return RefundOutcome(rental, "rental.refund_unavailable")
    if _received_message(status) is not None:
        rental = record(rental, status, "cancel", now)
        return _refused(rental, refund_decision(rental, now), now)
    if status.state != "cancelled":
        return RefundOutcome(rental, "rental.refund_unavailable")
    credited = _credit(rental, now)
    rental = _reload(rental)
    if not credited:  # another request won the race: say what happened instead
        return _refused(rental, refund_decision(rental, now), now)
    flag_if_abusive(user.id, now)
    return RefundOutcome(rental, "sms_refund.allowed", credited=True,
                         values={"price": rental.price_cents})


def _refused(rental: Rental, decision: Decision, now: datetime) -> RefundOutcome:
    values = {}
    if decision.reason == "sms_refund.window_open":
        values = {"left": max(decision.deadline - now, timedelta(0)), "opens": decision.deadline}
    return RefundOutcome(rental, decision.reason, deadline=decision.deadline, values=values)


def _credit(rental: Rental, now: datetime) -> bool:
    """Move the rental to refunded and credit its price, in one transaction; True only for
    the one caller whose conditional UPDATE won."""
    with money_transaction():
        won = Rental.update(state=REFUNDED, refunded_at=now, updated_at=now, closed_at=now).where(
            Rental.id == rental.id, Rental.state.in_(OPEN)).execute()
        if not won:
            return False
        posting = postings.rental_refund(rental)
        Rental.update(refund_txn=posting.txn).where(Rental.id == rental.id).execute()
        for kind in ("refund_requested", "cancelled_upstream", "credited"):
            timeline.add(rental.id, kind, now)
        return posting.created


def flag_if_abusive(user_id: int, now: datetime) -> Decision:
    """Count the account's rentals and refunds within the Terms' abuse period; above the
    thresholds, flag it for staff review (once, until staff clear the flag)."""
    terms = terms_in_force(now)
    recent = Rental.select().where(Rental.user == user_id,
                                   Rental.rented_at >= now - terms.refund_abuse_period)
    decision = refund_abuse_decision(
        refunds=recent.where(Rental.state == REFUNDED).count(), rentals=recent.count(),
        terms=terms,
    )
    if not decision.allowed:
        User.update(flagged_at=now, flag_reason=decision.reason).where(
            User.id == user_id, User.flagged_at.is_null()).execute()
    return decision


# --- reading -------------------------------------------------------------------------


def for_any_user():
    """Rentals with their service, newest first."""
    return Rental.select(Rental, Service).join(Service).order_by(Rental.id.desc())


def for_user(user_id: int):
    """The user's rentals with their service, newest first."""
    return for_any_user().where(Rental.user == user_id)


def newest(user_id: int, limit: int) -> list[Rental]:
    """The user's ``limit`` newest rentals with their service (the dashboard's and the rent
    page's lists): their SQL is generated once (``compiled_sql``)."""
    sql = compiled_sql("newest_rentals", lambda: for_user(0).limit(1))
    return [_with_service(row) for row in database.execute_sql(sql, (user_id, limit))]


def _with_service(row) -> Rental:
    """The rental, with its service, of a row of ``for_any_user()`` run as plain SQL."""
    rental, service = as_models(row, Rental, Service)
    rental.service = service
    return rental


def one_for_user(user_id: int, reference: str):
    """A query for one rental of this user only (another user's reference finds nothing)."""
    return for_user(user_id).where(Rental.reference == reference)


def polled_row(user_id: int, reference: str) -> tuple[Rental, list[RentalMessage]] | None:
    """The user's rental ``reference`` (with its service) and its SMS, as its row polls them
    every second while it waits; None when the user has no such rental. The SQL of both
    queries is generated once (``compiled_sql``): with 1,000 rows polling, generating it cost
    more than running it (``bench/jobs_bench.py``, the row poll's p99 target of 25 ms)."""
    rental_sql = compiled_sql("polled_rental", lambda: one_for_user(0, ""))
    row = database.execute_sql(rental_sql, (user_id, reference)).fetchone()
    if row is None:
        return None
    rental = _with_service(row)
    messages_sql = compiled_sql("polled_messages", lambda: RentalMessage.select().where(
        RentalMessage.rental == 0).order_by(RentalMessage.received_at, RentalMessage.id))
    return rental, [as_model(RentalMessage, row) for row in database.execute_sql(messages_sql, (rental.id,))]


def sms_summary(user_id: int, rental_id: int) -> tuple[str, int | None, int, str | None] | None:
    """The user's rental ``rental_id`` as an API status needs it: its state, the SMS count
    when another SMS was asked for, how many SMS it has and the last one's code (or text);
    None when the user has no such rental. The API's most frequent read (a client polls it),
    so its SQL is generated once (``compiled_sql``: generating it cost more than running it).
    """
    def build():
        count = RentalMessage.select(fn.COUNT(RentalMessage.id)).where(RentalMessage.rental == Rental.id)
        last = (RentalMessage.select(fn.COALESCE(RentalMessage.code, RentalMessage.text))
                .where(RentalMessage.rental == Rental.id)
                .order_by(RentalMessage.received_at.desc(), RentalMessage.id.desc()).limit(1))
        return Rental.select(Rental.state, Rental.retry_after, count, last).where(
            Rental.id == 0, Rental.user == 0)

    sql = compiled_sql("rental_sms_summary", build)
    row = database.execute_sql(sql, (1, rental_id, user_id)).fetchone()
    return None if row is None else (row[0], row[1], row[2], row[3])


def seconds_left(rental: Rental, now: datetime) -> int:
    return max(0, int((rental.ends_at - now).total_seconds() + 0.999))


def shown_state(rental: Rental, now: datetime) -> str:
    """The state to show: a waiting rental whose window has passed shows as expired."""
    if rental.state == WAITING and now >= rental.ends_at:
        return EXPIRED
    return rental.state
