"""Delivery statistics per country x service (share of rentals that got an SMS, median time
to the first SMS, over 7 and 30 days), refreshed by a periodic job."""
from peewee import CharField, IntegerField

from portal.store.fields import UtcDateTimeField
from portal.store.migrations import frozen_base


def up(migrator, db):
    Base = frozen_base(db)

    class DeliveryStat(Base):
        country = CharField(max_length=2)
        service = CharField(max_length=16)
        days = IntegerField()
        rentals = IntegerField()
        received = IntegerField()
        median_seconds = IntegerField(null=True)
        computed_at = UtcDateTimeField()

        class Meta:
            indexes = ((("country", "service", "days"), True),)

    db.create_tables([DeliveryStat])


def down(migrator, db):
    db.execute_sql('DROP TABLE "delivery_stat"')
