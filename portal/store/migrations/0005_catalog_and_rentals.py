"""The number catalog (services, dated prices per country x service) and rentals."""
from peewee import BigIntegerField, CharField, ForeignKeyField, IntegerField, TextField

from portal.store.fields import UtcDateTimeField
from portal.store.migrations import frozen_base


def up(migrator, db):
    Base = frozen_base(db)

    class User(Base):
        pass

    class LedgerTransaction(Base):
        pass

    class Service(Base):
        code = CharField(max_length=16, unique=True)
        name = CharField(max_length=64)
        wait_seconds = IntegerField()

    class Price(Base):
        country = CharField(max_length=2)
        service = ForeignKeyField(Service, on_delete="RESTRICT")
        price_cents = BigIntegerField()
        effective_at = UtcDateTimeField()
        created_by = ForeignKeyField(User, null=True, on_delete="RESTRICT")
        created_at = UtcDateTimeField()

        class Meta:
            indexes = ((("country", "service", "effective_at"), False),)

    class Rental(Base):
        reference = CharField(max_length=40, unique=True)
        user = ForeignKeyField(User, on_delete="RESTRICT")
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
        updated_at = UtcDateTimeField()

    db.create_tables([Service, Price, Rental])


def down(migrator, db):
    for table in ("rental", "price", "service"):
        db.execute_sql(f'DROP TABLE "{table}"')
