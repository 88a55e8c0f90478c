"""Card disputes (chargebacks) with their ledger postings and submitted evidence, and the
checkpoints of reconciliation with the processors."""
from peewee import BigIntegerField, CharField, ForeignKeyField, TextField

from portal.store.fields import UtcDateTimeField
from portal.store.migrations import frozen_base

TABLES = ("reconcile_checkpoint", "dispute")


def up(migrator, db):
    Base = frozen_base(db)

    class User(Base):
        pass

    class LedgerTransaction(Base):
        pass

    class Deposit(Base):
        pass

    class Dispute(Base):
        processor_id = CharField(max_length=255, unique=True)
        deposit = ForeignKeyField(Deposit, on_delete="RESTRICT")
        user = ForeignKeyField(User, on_delete="RESTRICT")
        amount_cents = BigIntegerField()
        currency = CharField(max_length=3)
        reason = CharField(max_length=64, default="")
        state = CharField(max_length=16, index=True)
        processor_status = CharField(max_length=32, default="")
        due_by = UtcDateTimeField(null=True)
        withdrawal_txn = ForeignKeyField(LedgerTransaction, null=True, on_delete="RESTRICT")
        reinstatement_txn = ForeignKeyField(LedgerTransaction, null=True, on_delete="RESTRICT")
        evidence = TextField(default="")
        evidence_submitted_at = UtcDateTimeField(null=True)
        evidence_submitted_by = ForeignKeyField(User, null=True, on_delete="RESTRICT")
        created_at = UtcDateTimeField()
        updated_at = UtcDateTimeField()

    class ReconcileCheckpoint(Base):
        name = CharField(max_length=32, unique=True)
        value = BigIntegerField()
        updated_at = UtcDateTimeField()

    db.create_tables([Dispute, ReconcileCheckpoint])


def down(migrator, db):
    for table in TABLES:
        db.execute_sql(f'DROP TABLE "{table}"')
