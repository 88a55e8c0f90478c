"""The portal's tables as peewee models on the shared ``DatabaseProxy``.

The schema itself is created and evolved by the numbered scripts in ``portal/migrations``;
these models must match the schema those scripts produce (a test checks it).
"""

from __future__ import annotations

from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from portal.store.db import database
from portal.store.fields import UtcDateTimeField, utcnow


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class User(BaseModel):
    email = CharField(max_length=254, unique=True)
    password_hash = CharField(max_length=255)
    language = CharField(max_length=8, default="en")
    country = CharField(max_length=2, default="")
    time_zone = CharField(max_length=64, default="UTC")  # IANA name; times are shown in it
    is_staff = BooleanField(default=False)
    session_version = IntegerField(default=1)  # read by no one since sessions are UserSession rows
    terms_version = CharField(max_length=10)
    terms_sha256 = CharField(max_length=64)
    terms_accepted_at = UtcDateTimeField()
    created_at = UtcDateTimeField(default=utcnow)
    # Standing: "active", "suspended" (may read and open tickets, may not deposit or rent)
    # or "terminated"; staff set it with a reason.
    status = CharField(max_length=16, default="active")
    status_reason = TextField(default="")
    status_changed_at = UtcDateTimeField(null=True)
    # Set when refund use passes the Terms' abuse thresholds: the account awaits staff review.
    flagged_at = UtcDateTimeField(null=True)
    flag_reason = CharField(max_length=64, default="")
    # The version in force whose one-time banner of changes this user was shown
    # (``portal.terms.banner``): "" before any.
    terms_banner_version = CharField(max_length=10, default="")


class Attempt(BaseModel):
    """One attempt a rate limit counts: a sign-in that failed or is being checked, or a
    registration; by ``scope`` (``portal.accounts.attempts``) and ``key`` (an email address or a
    client address). Rows, so the limits hold across every worker and instance."""

    scope = CharField(max_length=16)
    key = CharField(max_length=254)
    at = UtcDateTimeField()

    class Meta:
        indexes = ((("scope", "key", "at"), False),)


class Account(BaseModel):
    """A ledger account: a customer's wallet or one of the house accounts."""

    code = CharField(max_length=64, unique=True)
    user = ForeignKeyField(User, null=True, unique=True, backref="wallets", on_delete="RESTRICT")
    currency = CharField(max_length=3, default="USD")
    balance = BigIntegerField(default=0)
    allow_negative = BooleanField(default=False)


class LedgerTransaction(BaseModel):
    """A balanced set of entries, posted once per idempotency key."""

    idempotency_key = CharField(max_length=128, unique=True)
    kind = CharField(max_length=32)
    memo = CharField(max_length=255, default="")
    created_at = UtcDateTimeField(default=utcnow)


class Entry(BaseModel):
    """One line of a transaction; never updated or deleted."""

    txn = ForeignKeyField(LedgerTransaction, backref="entries", on_delete="RESTRICT")
    account = ForeignKeyField(Account, backref="entries", on_delete="RESTRICT")
    amount = BigIntegerField()
    balance_after = BigIntegerField()
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("account", "id"), False),)


class Deposit(BaseModel):
    """A top-up of a wallet by card or crypto, from creation to its final state."""

    reference = CharField(max_length=40, unique=True)
    user = ForeignKeyField(User, backref="deposits", on_delete="RESTRICT")
    method = CharField(max_length=8)
    amount_cents = BigIntegerField()
    currency = CharField(max_length=3, default="USD")
    state = CharField(max_length=16, default="created", index=True)
    terms_version = CharField(max_length=10)
    processor_ref = CharField(max_length=255, null=True, index=True)
    checkout_url = TextField(null=True)
    payment_intent = CharField(max_length=255, null=True)
    processor_status = CharField(max_length=32, default="")
    pay_currency = CharField(max_length=16, default="")
    paid_minor = TextField(null=True)  # coin amount in its smallest unit, as digits (wei overflow BIGINT)
    credited_cents = BigIntegerField(null=True)
    txn = ForeignKeyField(LedgerTransaction, null=True, on_delete="RESTRICT")
    created_at = UtcDateTimeField(default=utcnow)
    updated_at = UtcDateTimeField(default=utcnow)
    credited_at = UtcDateTimeField(null=True)


class Consent(BaseModel):
    """An EU consumer's express consent to immediate performance (waiving withdrawal), with
    its receipt (``portal.consent.receipts``): the exact ``text`` shown, in ``language``, the
    account's ``time_zone`` and ``country`` then, and ``receipt_id`` (random; null for consents recorded
    before receipts existed)."""

    user = ForeignKeyField(User, backref="consents", on_delete="RESTRICT")
    action = CharField(max_length=16)
    subject = CharField(max_length=40)
    terms_version = CharField(max_length=10)
    terms_sha256 = CharField(max_length=64)
    created_at = UtcDateTimeField(default=utcnow)
    ip = CharField(max_length=45)
    user_agent = CharField(max_length=512)
    receipt_id = CharField(max_length=36, null=True, unique=True)
    text = TextField(default="")
    language = CharField(max_length=8, default="")
    time_zone = CharField(max_length=64, default="UTC")
    country = CharField(max_length=2, default="")  # the consumer's, then: the receipt's jurisdiction


class ApiKey(BaseModel):
    """A customer's key to the API (``portal.api.keys``): only its sha256 is kept; ``prefix``
    (its first characters) names it on the account page. A revoked key opens nothing."""

    user = ForeignKeyField(User, backref="api_keys", on_delete="RESTRICT")
    name = CharField(max_length=64)
    prefix = CharField(max_length=8)
    digest = CharField(max_length=64, unique=True)
    webhook_url = CharField(max_length=2048, default="")
    webhook_secret = CharField(max_length=64)
    created_at = UtcDateTimeField(default=utcnow)
    last_used_at = UtcDateTimeField(null=True)
    revoked_at = UtcDateTimeField(null=True)


class TermsAcceptance(BaseModel):
    """One acceptance of a version of the Payment & Refund Policy (``portal.terms.acceptances``):
    at registration, or by continuing after a change. ``User.terms_version`` is the newest."""

    user = ForeignKeyField(User, backref="terms_acceptances", on_delete="RESTRICT")
    terms_version = CharField(max_length=10)
    terms_sha256 = CharField(max_length=64)
    accepted_at = UtcDateTimeField(default=utcnow)
    ip = CharField(max_length=45, default="")  # "" when not recorded (accounts older than this table)
    source = CharField(max_length=16)  # "registration" or "continued"

    class Meta:
        indexes = ((("user", "terms_version"), True),)


class TermsNoticeCampaign(BaseModel):
    """The e-mail notice of one material version (``portal.terms.notices``): every customer
    up to ``cursor`` (a user id) has been considered; the mails are outbox rows."""

    version = CharField(max_length=10, unique=True)
    cursor = BigIntegerField(default=0)
    started_at = UtcDateTimeField(default=utcnow)
    updated_at = UtcDateTimeField(default=utcnow)


# --- the number catalog and rentals ---


class Service(BaseModel):
    """A service whose verification SMS a rented number receives (wa, tg, ...)."""

    code = CharField(max_length=16, unique=True)
    name = CharField(max_length=64)
    wait_seconds = IntegerField()  # the wait window of its rentals


class Price(BaseModel):
    """The price of one country x service from ``effective_at`` on; a change is a new row."""

    country = CharField(max_length=2)
    service = ForeignKeyField(Service, backref="prices", on_delete="RESTRICT")
    price_cents = BigIntegerField()
    effective_at = UtcDateTimeField()
    created_by = ForeignKeyField(User, null=True, on_delete="RESTRICT")
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("country", "service", "effective_at"), False),)


class Rental(BaseModel):
    """A rented number: waiting -> received (final) | expired -> refunded (final)."""

    reference = CharField(max_length=40, unique=True)
    user = ForeignKeyField(User, backref="rentals", on_delete="RESTRICT")
    request_key = CharField(max_length=96, null=True, unique=True)
    country = CharField(max_length=2)
    service = ForeignKeyField(Service, on_delete="RESTRICT")
    price = ForeignKeyField(Price, on_delete="RESTRICT")
    price_cents = BigIntegerField()
    window_seconds = IntegerField()
    terms_version = CharField(max_length=10)
    provider = CharField(max_length=16)
    activation_id = CharField(max_length=128)
    phone = CharField(max_length=20)
    state = CharField(max_length=16, default="waiting", index=True)
    rented_at = UtcDateTimeField(index=True)
    ends_at = UtcDateTimeField()
    sms_text = TextField(null=True)
    sms_code = CharField(max_length=32, null=True)
    received_at = UtcDateTimeField(null=True)
    refunded_at = UtcDateTimeField(null=True)
    charge_txn = ForeignKeyField(LedgerTransaction, null=True, on_delete="RESTRICT")
    refund_txn = ForeignKeyField(LedgerTransaction, null=True, on_delete="RESTRICT")
    updated_at = UtcDateTimeField(default=utcnow)
    closed_at = UtcDateTimeField(null=True)  # finished or cancelled at the upstream: not asked again
    api_key = ForeignKeyField(ApiKey, null=True, on_delete="RESTRICT")  # rented through the API
    retry_after = IntegerField(null=True)  # SMS count when the customer asked for another one


class RentalMessage(BaseModel):
    """One SMS a rental received (an activation may receive several), recorded once:
    ``fingerprint`` identifies it whichever way it came (``source``: poll, push, cancel)."""

    rental = ForeignKeyField(Rental, backref="messages", on_delete="RESTRICT")
    fingerprint = CharField(max_length=64)
    text = TextField()
    code = CharField(max_length=32, null=True)
    received_at = UtcDateTimeField()
    recorded_at = UtcDateTimeField(default=utcnow)
    source = CharField(max_length=8)

    class Meta:
        indexes = ((("rental", "fingerprint"), True),)


class RentalEvent(BaseModel):
    """One step of a rental's timeline (``portal.numbers.timeline``); rows are never changed
    or deleted (the database refuses)."""

    rental = ForeignKeyField(Rental, backref="events", on_delete="RESTRICT")
    kind = CharField(max_length=24)
    at = UtcDateTimeField()
    detail = CharField(max_length=255, default="")

    class Meta:
        indexes = ((("rental", "at"), False),)


# --- support tickets, card refunds, staff audit and the notification outbox ---


class Ticket(BaseModel):
    """A customer's support request; a card-refund ticket names the deposit it is about."""

    user = ForeignKeyField(User, backref="tickets", on_delete="RESTRICT")
    category = CharField(max_length=16)
    subject = CharField(max_length=120)
    state = CharField(max_length=16, default="open", index=True)
    deposit = ForeignKeyField(Deposit, null=True, on_delete="RESTRICT")
    opened_at = UtcDateTimeField(default=utcnow)
    first_response_due = UtcDateTimeField(index=True)
    first_response_at = UtcDateTimeField(null=True)
    updated_at = UtcDateTimeField(default=utcnow)
    decision_reason = CharField(max_length=64, default="")
    decision_note = TextField(default="")


class TicketMessage(BaseModel):
    """One message of a ticket's thread, by the customer or by staff; plain text."""

    ticket = ForeignKeyField(Ticket, backref="messages", on_delete="RESTRICT")
    author = ForeignKeyField(User, on_delete="RESTRICT")
    from_staff = BooleanField(default=False)
    body = TextField()
    created_at = UtcDateTimeField(default=utcnow)


class CardRefund(BaseModel):
    """A card deposit's refund: approved by staff, sent to Stripe, settled by webhook."""

    deposit = ForeignKeyField(Deposit, unique=True, on_delete="RESTRICT")
    ticket = ForeignKeyField(Ticket, on_delete="RESTRICT")
    amount_cents = BigIntegerField()
    state = CharField(max_length=16, default="pending")  # pending, succeeded, failed
    processor_refund_id = CharField(max_length=255, null=True, index=True)
    failure_reason = CharField(max_length=64, default="")
    approved_by = ForeignKeyField(User, on_delete="RESTRICT")
    txn = ForeignKeyField(LedgerTransaction, on_delete="RESTRICT")
    reversal_txn = ForeignKeyField(LedgerTransaction, null=True, on_delete="RESTRICT")
    created_at = UtcDateTimeField(default=utcnow)
    updated_at = UtcDateTimeField(default=utcnow)


class AuditEntry(BaseModel):
    """One staff action, written in the same transaction as the action itself."""

    actor = ForeignKeyField(User, on_delete="RESTRICT")
    action = CharField(max_length=32)
    subject_user = ForeignKeyField(User, null=True, on_delete="RESTRICT")
    ticket = ForeignKeyField(Ticket, null=True, on_delete="RESTRICT")
    reason = CharField(max_length=64, default="")
    note = TextField(default="")
    created_at = UtcDateTimeField(default=utcnow, index=True)


class OutboxMessage(BaseModel):
    """A side effect waiting for delivery (``portal.jobs.outbox``): written in the same
    transaction as its cause, delivered by a job with retries; ``key`` is what receivers
    deduplicate by. ``channel`` says how: ``email`` (``target`` an address, ``subject`` and
    ``body`` the mail) or ``loopback`` (``target`` a path of the portal's own webhooks,
    ``body`` and ``headers`` the signed request, for the demo processor)."""

    key = CharField(max_length=128, unique=True)
    channel = CharField(max_length=16, default="email")
    user = ForeignKeyField(User, null=True, on_delete="RESTRICT")
    target = CharField(max_length=2048)
    kind = CharField(max_length=32)
    subject = CharField(max_length=255, default="")
    body = TextField()
    headers = TextField(default="{}")
    state = CharField(max_length=16, default="pending", index=True)  # pending, sending, sent, dead
    tries = IntegerField(default=0)
    next_attempt_at = UtcDateTimeField(null=True)
    claimed_until = UtcDateTimeField(null=True)
    error = CharField(max_length=255, default="")  # the last try's error
    created_at = UtcDateTimeField(default=utcnow)
    sent_at = UtcDateTimeField(null=True)

    class Meta:
        indexes = ((("state", "next_attempt_at"), False),)


# --- sessions held by the server ---


class UserSession(BaseModel):
    """One signed-in browser: its session cookie carries this random ``id``. Signing out
    deletes the row, so the cookie opens nothing after, wherever it was copied to."""

    id = CharField(primary_key=True, max_length=64)
    user = ForeignKeyField(User, backref="sessions", on_delete="RESTRICT")
    created_at = UtcDateTimeField(default=utcnow)


# --- card disputes and reconciliation with the processors ---


class Dispute(BaseModel):
    """A chargeback of a card deposit, as Stripe reports it (``portal.money.disputes``)."""

    processor_id = CharField(max_length=255, unique=True)
    deposit = ForeignKeyField(Deposit, backref="disputes", on_delete="RESTRICT")
    user = ForeignKeyField(User, backref="disputes", on_delete="RESTRICT")
    amount_cents = BigIntegerField()
    currency = CharField(max_length=3)
    reason = CharField(max_length=64, default="")
    state = CharField(max_length=16, index=True)  # portal.states.DISPUTE
    processor_status = CharField(max_length=32, default="")
    due_by = UtcDateTimeField(null=True)  # evidence_details.due_by
    withdrawal_txn = ForeignKeyField(LedgerTransaction, null=True, on_delete="RESTRICT")
    reinstatement_txn = ForeignKeyField(LedgerTransaction, null=True, on_delete="RESTRICT")
    evidence = TextField(default="")  # the JSON submitted to the processor
    evidence_submitted_at = UtcDateTimeField(null=True)
    evidence_submitted_by = ForeignKeyField(User, null=True, on_delete="RESTRICT")
    created_at = UtcDateTimeField(default=utcnow)
    updated_at = UtcDateTimeField(default=utcnow)


class DeliveryStat(BaseModel):
    """How one country x service delivered over the last ``days`` (``portal.numbers.delivery``):
    decided rentals, how many got an SMS, the median seconds to the first one."""

    country = CharField(max_length=2)
    service = CharField(max_length=16)
    days = IntegerField()
    rentals = IntegerField()
    received = IntegerField()
    median_seconds = IntegerField(null=True)
    computed_at = UtcDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("country", "service", "days"), True),)


class Lease(BaseModel):
    """A job's claim on work only one consumer may do at a time; it lapses at ``expires_at``
    (a consumer killed while holding it blocks nobody for long)."""

    name = CharField(max_length=32, primary_key=True)
    holder = CharField(max_length=64)
    expires_at = UtcDateTimeField()


class UpstreamHealth(BaseModel):
    """What the polling job last learned of an SMS upstream: while ``retry_at`` is ahead,
    pages answer at once that the provider is unavailable instead of waiting on it."""

    provider = CharField(max_length=16, primary_key=True)
    failures = IntegerField(default=0)
    failing_since = UtcDateTimeField(null=True)
    retry_at = UtcDateTimeField(null=True)
    error = CharField(max_length=255, default="")


class ReconcileCheckpoint(BaseModel):
    """Up to where reconciliation has read a processor's history (e.g. an event's time)."""

    name = CharField(max_length=32, unique=True)
    value = BigIntegerField()
    updated_at = UtcDateTimeField(default=utcnow)


# --- the EU withdrawal function ---


class WithdrawalRequest(BaseModel):
    """One use of the withdrawal function (``portal.consent.withdrawals``): ``key`` (the
    user and the form's token) makes a form submitted twice one request."""

    user = ForeignKeyField(User, backref="withdrawals", on_delete="RESTRICT")
    key = CharField(max_length=96, unique=True)
    language = CharField(max_length=8)
    time_zone = CharField(max_length=64)
    created_at = UtcDateTimeField(default=utcnow, index=True)


class WithdrawalItem(BaseModel):
    """A deposit or rental a withdrawal request covers, and what became of it: ``outcome``
    is a reason code (``portal.consent.withdrawal_rules``), with the card-refund ticket it
    opened or the waiver consent that explains it."""

    request = ForeignKeyField(WithdrawalRequest, backref="items", on_delete="RESTRICT")
    kind = CharField(max_length=8)  # deposit, rental
    reference = CharField(max_length=40)
    outcome = CharField(max_length=64)
    detail = CharField(max_length=64, default="")  # the refund rule's reason, where one applies
    ticket = ForeignKeyField(Ticket, null=True, on_delete="RESTRICT")
    consent = ForeignKeyField(Consent, null=True, on_delete="RESTRICT")


ALL_MODELS = (User, Attempt, Account, LedgerTransaction, Entry, Deposit, Consent, Service, Price, Rental,
              Ticket, TicketMessage, CardRefund, AuditEntry, OutboxMessage, UserSession, Dispute,
              ReconcileCheckpoint, RentalMessage, RentalEvent, Lease, UpstreamHealth, ApiKey, DeliveryStat,
              TermsAcceptance, TermsNoticeCampaign, WithdrawalRequest, WithdrawalItem)
