"""Support tickets and their messages, card refunds, the staff audit log and the
notification outbox."""
from peewee import BigIntegerField, BooleanField, CharField, ForeignKeyField, TextField

from portal.store.fields import UtcDateTimeField
from portal.store.migrations import frozen_base

TABLES = ("outbox_message", "audit_entry", "card_refund", "ticket_message", "ticket")


def up(migrator, db):
    Base = frozen_base(db)

    class User(Base):
        pass

    class LedgerTransaction(Base):
        pass

    class Deposit(Base):
        pass

    class Ticket(Base):
        user = ForeignKeyField(User, on_delete="RESTRICT")
        category = CharField(max_length=16)
        subject = CharField(max_length=120)
        state = CharField(max_length=16, default="open", index=True)
        deposit = ForeignKeyField(Deposit, null=True, on_delete="RESTRICT")
        opened_at = UtcDateTimeField()
        first_response_due = UtcDateTimeField(index=True)
        first_response_at = UtcDateTimeField(null=True)
        updated_at = UtcDateTimeField()
        decision_reason = CharField(max_length=64, default="")
        decision_note = TextField(default="")

    class TicketMessage(Base):
        ticket = ForeignKeyField(Ticket, on_delete="RESTRICT")
        author = ForeignKeyField(User, on_delete="RESTRICT")
        from_staff = BooleanField(default=False)
        body = TextField()
        created_at = UtcDateTimeField()

    class CardRefund(Base):
        deposit = ForeignKeyField(Deposit, unique=True, on_delete="RESTRICT")
        ticket = ForeignKeyField(Ticket, on_delete="RESTRICT")
        amount_cents = BigIntegerField()
        state = CharField(max_length=16, default="pending")
        processor_refund_id = CharField(max_length=255, null=True, index=True)
        failure_reason = CharField(max_length=64, default="")
        approved_by = ForeignKeyField(User, on_delete="RESTRICT")
        txn = ForeignKeyField(LedgerTransaction, on_delete="RESTRICT")
        reversal_txn = ForeignKeyField(LedgerTransaction, null=True, on_delete="RESTRICT")
        created_at = UtcDateTimeField()
        updated_at = UtcDateTimeField()

    class AuditEntry(Base):
        actor = ForeignKeyField(User, on_delete="RESTRICT")
        action = CharField(max_length=32)
        subject_user = ForeignKeyField(User, null=True, on_delete="RESTRICT")
        ticket = ForeignKeyField(Ticket, null=True, on_delete="RESTRICT")
        reason = CharField(max_length=64, default="")
        note = TextField(default="")
        created_at = UtcDateTimeField(index=True)

    class OutboxMessage(Base):
        user = ForeignKeyField(User, on_delete="RESTRICT")
        to_email = CharField(max_length=254)
        kind = CharField(max_length=32)
        subject = CharField(max_length=255)
        body = TextField()
        state = CharField(max_length=16, default="queued", index=True)
        error = CharField(max_length=255, default="")
        created_at = UtcDateTimeField()
        sent_at = UtcDateTimeField(null=True)

    db.create_tables([Ticket, TicketMessage, CardRefund, AuditEntry, OutboxMessage])


def down(migrator, db):
    for table in TABLES:
        db.execute_sql(f'DROP TABLE "{table}"')
