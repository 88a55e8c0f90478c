"""Consent receipts and the EU withdrawal function: each withdrawal-waiver consent keeps the
exact text shown, its language, the time zone and country of the account then and a
receipt id; a withdrawal request (with
its items and what became of each) is recorded once per submitted form."""
from peewee import CharField, ForeignKeyField, TextField
from playhouse.migrate import migrate

from portal.store.fields import UtcDateTimeField
from portal.store.migrations import frozen_base

TABLES = ("withdrawal_item", "withdrawal_request")
COLUMNS = (
    ("receipt_id", CharField(max_length=36, null=True)),
    ("text", TextField(default="")),
    ("language", CharField(max_length=8, default="")),
    ("time_zone", CharField(max_length=64, default="UTC")),
    ("country", CharField(max_length=2, default="")),
)


def up(migrator, db):
    Base = frozen_base(db)

    class User(Base):
        pass

    class Ticket(Base):
        pass

    class Consent(Base):
        pass

    class WithdrawalRequest(Base):
        user = ForeignKeyField(User, on_delete="RESTRICT")
        key = CharField(max_length=96, unique=True)
        language = CharField(max_length=8)
        time_zone = CharField(max_length=64)
        created_at = UtcDateTimeField(index=True)

    class WithdrawalItem(Base):
        request = ForeignKeyField(WithdrawalRequest, on_delete="RESTRICT")
        kind = CharField(max_length=8)
        reference = CharField(max_length=40)
        outcome = CharField(max_length=64)
        detail = CharField(max_length=64, default="")
        ticket = ForeignKeyField(Ticket, null=True, on_delete="RESTRICT")
        consent = ForeignKeyField(Consent, null=True, on_delete="RESTRICT")

    migrate(*(migrator.add_column("consent", name, field) for name, field in COLUMNS),
            migrator.add_index("consent", ("receipt_id",), True))
    db.create_tables([WithdrawalRequest, WithdrawalItem])


def down(migrator, db):
    for table in TABLES:
        db.execute_sql(f'DROP TABLE "{table}"')
    migrate(migrator.drop_index("consent", "consent_receipt_id"),
            *(migrator.drop_column("consent", name) for name, _ in COLUMNS))
