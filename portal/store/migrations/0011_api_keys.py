"""The customer API: keys (stored hashed, named, revocable, each with an optional webhook),
their per-second request counters, and which key rented a number (its webhook hears of it)
and whether its customer asked for another SMS."""
from peewee import CharField, ForeignKeyField, IntegerField
from playhouse.migrate import migrate

from portal.store.fields import UtcDateTimeField
from portal.store.migrations import frozen_base

TABLES = ("api_rate", "api_key")


def up(migrator, db):
    Base = frozen_base(db)

    class User(Base):
        pass

    class ApiKey(Base):
        user = ForeignKeyField(User, on_delete="RESTRICT")
        name = CharField(max_length=64)
        prefix = CharField(max_length=8)
        digest = CharField(max_length=64, unique=True)
        webhook_url = CharField(max_length=2048, default="")
        webhook_secret = CharField(max_length=64)
        created_at = UtcDateTimeField()
        last_used_at = UtcDateTimeField(null=True)
        revoked_at = UtcDateTimeField(null=True)

    class ApiRate(Base):
        key = ForeignKeyField(ApiKey, primary_key=True, on_delete="RESTRICT")
        window = IntegerField()
        count = IntegerField()

    db.create_tables([ApiKey, ApiRate])
    migrate(
        migrator.add_column("rental", "api_key_id", ForeignKeyField(ApiKey, ApiKey.id, null=True, on_delete="RESTRICT")),
        migrator.add_column("rental", "retry_after", IntegerField(null=True)),
    )


def down(migrator, db):
    migrate(migrator.drop_column("rental", "api_key_id"), migrator.drop_column("rental", "retry_after"))
    for table in TABLES:
        db.execute_sql(f'DROP TABLE "{table}"')
