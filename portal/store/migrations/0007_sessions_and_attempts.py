"""Sessions held by the server (signing out ends one on every worker; a password change ends
every other one), and the attempts that rate limits count, by scope: sign-ins per account and
per client address, registrations per client address. ``attempt`` replaces ``login_failure``,
whose rows only counted for a minute: a deploy forgets at most one window of failures."""
from peewee import CharField, ForeignKeyField

from portal.store.fields import UtcDateTimeField
from portal.store.migrations import frozen_base


def up(migrator, db):
    Base = frozen_base(db)

    class User(Base):
        pass

    class UserSession(Base):
        id = CharField(primary_key=True, max_length=64)
        user = ForeignKeyField(User, on_delete="RESTRICT")
        created_at = UtcDateTimeField()

    class Attempt(Base):
        scope = CharField(max_length=16)
        key = CharField(max_length=254)
        at = UtcDateTimeField()

        class Meta:
            indexes = ((("scope", "key", "at"), False),)

    db.create_tables([UserSession, Attempt])
    db.execute_sql('DROP TABLE "login_failure"')


def down(migrator, db):
    Base = frozen_base(db)

    class LoginFailure(Base):
        key = CharField(max_length=254, index=True)
        at = UtcDateTimeField(index=True)

    db.create_tables([LoginFailure])
    for table in ("attempt", "user_session"):
        db.execute_sql(f'DROP TABLE "{table}"')
