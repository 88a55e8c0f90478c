"""Deposits (card and crypto) and the EU withdrawal-waiver consents."""
from peewee import BigIntegerField, CharField, ForeignKeyField, TextField

from portal.store.fields import UtcDateTimeField
from portal.store.migrations import frozen_base


def up(migrator, db):
    Base = frozen_base(db)

    class User(Base):
        pass

    class LedgerTransaction(Base):
        pass

    class Deposit(Base):
        reference = CharField(max_length=40, unique=True)
        user = ForeignKeyField(User, on_delete="RESTRICT")
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
        paid_minor = TextField(null=True)
        credited_cents = BigIntegerField(null=True)
        txn = ForeignKeyField(LedgerTransaction, null=True, on_delete="RESTRICT")
        created_at = UtcDateTimeField()
        updated_at = UtcDateTimeField()
        credited_at = UtcDateTimeField(null=True)

    class Consent(Base):
        user = ForeignKeyField(User, on_delete="RESTRICT")
        action = CharField(max_length=16)
        subject = CharField(max_length=40)
        terms_version = CharField(max_length=10)
        terms_sha256 = CharField(max_length=64)
        created_at = UtcDateTimeField()
        ip = CharField(max_length=45)
        user_agent = CharField(max_length=512)

    db.create_tables([Deposit, Consent])


def down(migrator, db):
    for table in ("consent", "deposit"):
        db.execute_sql(f'DROP TABLE "{table}"')
