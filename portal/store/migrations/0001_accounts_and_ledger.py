"""Users, login failures and the double-entry ledger (accounts, transactions, entries)."""
from peewee import BigIntegerField, BooleanField, CharField, ForeignKeyField, IntegerField

from portal.store.fields import UtcDateTimeField
from portal.store.migrations import frozen_base


def up(migrator, db):
    Base = frozen_base(db)

    class User(Base):
        email = CharField(max_length=254, unique=True)
        password_hash = CharField(max_length=255)
        language = CharField(max_length=8, default="en")
        country = CharField(max_length=2, default="")
        is_staff = BooleanField(default=False)
        session_version = IntegerField(default=1)
        terms_version = CharField(max_length=10)
        terms_sha256 = CharField(max_length=64)
        terms_accepted_at = UtcDateTimeField()
        created_at = UtcDateTimeField()

    class LoginFailure(Base):
        key = CharField(max_length=254, index=True)
        at = UtcDateTimeField(index=True)

    class Account(Base):
        code = CharField(max_length=64, unique=True)
        user = ForeignKeyField(User, null=True, unique=True, on_delete="RESTRICT")
        currency = CharField(max_length=3, default="USD")
        balance = BigIntegerField(default=0)
        allow_negative = BooleanField(default=False)

    class LedgerTransaction(Base):
        idempotency_key = CharField(max_length=128, unique=True)
        kind = CharField(max_length=32)
        memo = CharField(max_length=255, default="")
        created_at = UtcDateTimeField()

    class Entry(Base):
        txn = ForeignKeyField(LedgerTransaction, on_delete="RESTRICT")
        account = ForeignKeyField(Account, on_delete="RESTRICT")
        amount = BigIntegerField()
        balance_after = BigIntegerField()
        created_at = UtcDateTimeField()

        class Meta:
            indexes = ((("account", "id"), False),)

    db.create_tables([User, LoginFailure, Account, LedgerTransaction, Entry])


def down(migrator, db):
    for table in ("entry", "ledger_transaction", "account", "login_failure", "user"):
        db.execute_sql(f'DROP TABLE "{table}"')
