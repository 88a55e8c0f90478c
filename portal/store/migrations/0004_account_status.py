"""Account standing: active, suspended or terminated (with the reason staff gave), and the
flag that puts an account in the staff's refund-abuse review."""
from peewee import CharField, TextField

from portal.store.fields import UtcDateTimeField

COLUMNS = (
    ("status", CharField(max_length=16, default="active")),
    ("status_reason", TextField(default="")),
    ("status_changed_at", UtcDateTimeField(null=True)),
    ("flagged_at", UtcDateTimeField(null=True)),
    ("flag_reason", CharField(max_length=64, default="")),
)


def up(migrator, db):
    migrator.migrate(*(migrator.add_column("user", name, field) for name, field in COLUMNS))


def down(migrator, db):
    migrator.migrate(*(migrator.drop_column("user", name) for name, _ in COLUMNS))
