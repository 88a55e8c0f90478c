"""Policy changes: the history of each customer's acceptances of the Terms (backfilled from
the acceptance every account recorded at registration), the e-mail notice campaign of each
material version, and which version's one-time banner of changes a customer was shown."""
from peewee import BigIntegerField, CharField, ForeignKeyField
from playhouse.migrate import migrate

from portal.store.fields import UtcDateTimeField
from portal.store.migrations import frozen_base

TABLES = ("terms_notice_campaign", "terms_acceptance")


def up(migrator, db):
    Base = frozen_base(db)

    class User(Base):
        pass

    class TermsAcceptance(Base):
        user = ForeignKeyField(User, on_delete="RESTRICT")
        terms_version = CharField(max_length=10)
        terms_sha256 = CharField(max_length=64)
        accepted_at = UtcDateTimeField()
        ip = CharField(max_length=45, default="")
        source = CharField(max_length=16)

        class Meta:
            indexes = ((("user", "terms_version"), True),)

    class TermsNoticeCampaign(Base):
        version = CharField(max_length=10, unique=True)
        cursor = BigIntegerField(default=0)
        started_at = UtcDateTimeField()
        updated_at = UtcDateTimeField()

    db.create_tables([TermsAcceptance, TermsNoticeCampaign])
    migrate(migrator.add_column("user", "terms_banner_version", CharField(max_length=10, default="")))
    # Until now an account's one acceptance was the one it recorded at registration (no IP).
    db.execute_sql(
        'INSERT INTO "terms_acceptance" (user_id, terms_version, terms_sha256, accepted_at, ip, source) '
        "SELECT id, terms_version, terms_sha256, terms_accepted_at, '', 'registration' FROM \"user\"")


def down(migrator, db):
    migrate(migrator.drop_column("user", "terms_banner_version"))
    for table in TABLES:
        db.execute_sql(f'DROP TABLE "{table}"')
