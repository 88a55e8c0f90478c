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

from portal.db import database
from portal.fields import UtcDateTimeField, utcnow


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class User(BaseModel):
    email = CharField(max_length=254, unique=True)
    password_hash = CharField(max_length=255)
    language = CharField(max_length=8, default="en")
    country = CharField(max_length=2, default="")
    is_staff = BooleanField(default=False)
    session_version = IntegerField(default=1)
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


class LoginFailure(BaseModel):
    """One failed login, kept so the rate limit holds across every worker."""

    key = CharField(max_length=254, index=True)
    at = UtcDateTimeField(index=True)


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
    """An EU consumer's express consent to immediate performance (waiving withdrawal)."""

    user = ForeignKeyField(User, backref="consents", on_delete="RESTRICT")
    action = CharField(max_length=16)
    subject = CharField(max_length=40)
    terms_version = CharField(max_length=10)
    terms_sha256 = CharField(max_length=64)
    created_at = UtcDateTimeField(default=utcnow)
    ip = CharField(max_length=45)
    user_agent = CharField(max_length=512)


ALL_MODELS = (User, LoginFailure, Account, LedgerTransaction, Entry, Deposit, Consent)
