"""Background work: the outbox becomes a delivery queue for every side effect (e-mail and
signed HTTP events, with tries, backoff and an idempotency key), rentals keep every SMS and
an append-only timeline, and the jobs keep their leases and what they know of an upstream's
health."""
import hashlib

from peewee import CharField, ForeignKeyField, IntegerField, SqliteDatabase, TextField
from playhouse.migrate import migrate

from portal.store.fields import UtcDateTimeField
from portal.store.migrations import frozen_base

TABLES = ("upstream_health", "lease", "rental_event", "rental_message")


def up(migrator, db):
    Base = frozen_base(db)

    class Rental(Base):
        state = CharField()
        sms_text = TextField(null=True)
        sms_code = CharField(null=True)
        received_at = UtcDateTimeField(null=True)

    class RentalMessage(Base):
        rental = ForeignKeyField(Rental, on_delete="RESTRICT")
        fingerprint = CharField(max_length=64)
        text = TextField()
        code = CharField(max_length=32, null=True)
        received_at = UtcDateTimeField()
        recorded_at = UtcDateTimeField()
        source = CharField(max_length=8)

        class Meta:
            indexes = ((("rental", "fingerprint"), True),)

    class RentalEvent(Base):
        rental = ForeignKeyField(Rental, on_delete="RESTRICT")
        kind = CharField(max_length=24)
        at = UtcDateTimeField()
        detail = CharField(max_length=255, default="")

        class Meta:
            indexes = ((("rental", "at"), False),)

    class Lease(Base):
        name = CharField(max_length=32, primary_key=True)
        holder = CharField(max_length=64)
        expires_at = UtcDateTimeField()

    class UpstreamHealth(Base):
        provider = CharField(max_length=16, primary_key=True)
        failures = IntegerField(default=0)
        failing_since = UtcDateTimeField(null=True)
        retry_at = UtcDateTimeField(null=True)
        error = CharField(max_length=255, default="")

    db.create_tables([RentalMessage, RentalEvent, Lease, UpstreamHealth])
    _immutable(db, "rental_event")
    for rental in Rental.select().where(Rental.sms_text.is_null(False)):  # the one SMS kept so far
        text, code = rental.sms_text, rental.sms_code
        digest = hashlib.sha256(f"{code or ''}\0{text}".encode()).hexdigest()
        RentalMessage.create(rental=rental.id, fingerprint=digest, text=text, code=code,
                             received_at=rental.received_at, recorded_at=rental.received_at,
                             source="poll")

    outbox = "outbox_message"
    migrate(
        migrator.drop_not_null(outbox, "user_id"),
        migrator.rename_column(outbox, "to_email", "target"),
        migrator.add_column(outbox, "channel", CharField(max_length=16, default="email")),
        migrator.add_column(outbox, "key", CharField(max_length=128, null=True)),
        migrator.add_column(outbox, "headers", TextField(default="{}")),
        migrator.add_column(outbox, "tries", IntegerField(default=0)),
        migrator.add_column(outbox, "next_attempt_at", UtcDateTimeField(null=True)),
        migrator.add_column(outbox, "claimed_until", UtcDateTimeField(null=True)),
        migrator.add_column(Rental._meta.table_name, "closed_at", UtcDateTimeField(null=True)),
    )
    migrate(migrator.alter_column_type(outbox, "target", CharField(max_length=2048)))
    db.execute_sql(f'UPDATE "{outbox}" SET "key" = \'mail:\' || "id", '
                   '"next_attempt_at" = "created_at"')
    db.execute_sql(f'UPDATE "{outbox}" SET "state" = \'pending\' WHERE "state" = \'queued\'')
    db.execute_sql(f'UPDATE "{outbox}" SET "state" = \'dead\', "tries" = 1 WHERE "state" = \'failed\'')
    migrate(
        migrator.add_not_null(outbox, "key"),
        migrator.add_index(outbox, ("key",), True),
        migrator.add_index(outbox, ("state", "next_attempt_at"), False),
    )


def _immutable(db, table):
    if isinstance(db, SqliteDatabase):
        for action in ("UPDATE", "DELETE"):
            db.execute_sql(
                f'CREATE TRIGGER "{table}_no_{action.lower()}" BEFORE {action} ON "{table}" '
                "BEGIN SELECT RAISE(ABORT, 'timeline rows are immutable'); END"
            )
        return
    db.execute_sql(
        f'CREATE TRIGGER "{table}_immutable" BEFORE UPDATE OR DELETE ON "{table}" '
        "FOR EACH ROW EXECUTE FUNCTION ledger_immutable()"
    )


def down(migrator, db):
    outbox = "outbox_message"
    db.execute_sql(f'UPDATE "{outbox}" SET "state" = \'queued\' WHERE "state" = \'pending\'')
    db.execute_sql(f'UPDATE "{outbox}" SET "state" = \'failed\' WHERE "state" = \'dead\'')
    migrate(
        migrator.drop_index(outbox, f"{outbox}_state_next_attempt_at"),
        migrator.drop_index(outbox, f"{outbox}_key"),
        *(migrator.drop_column(outbox, name)
          for name in ("channel", "key", "headers", "tries", "next_attempt_at", "claimed_until")),
        migrator.drop_column("rental", "closed_at"),
    )
    migrate(migrator.alter_column_type(outbox, "target", CharField(max_length=254)),
            migrator.rename_column(outbox, "target", "to_email"))
    if isinstance(db, SqliteDatabase):
        for action in ("update", "delete"):
            db.execute_sql(f'DROP TRIGGER "rental_event_no_{action}"')
    else:
        db.execute_sql('DROP TRIGGER "rental_event_immutable" ON "rental_event"')
    for table in TABLES:
        db.execute_sql(f'DROP TABLE "{table}"')
