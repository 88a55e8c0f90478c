"""Numbered schema migrations, applied in order by ``portal.store.migrate`` (playhouse.migrations).

Each script declares frozen copies of the tables it creates, independent of
``portal.store.models``, so an old database can always be brought to the current schema.
"""

from peewee import Model


def frozen_base(db):
    """The base class of one migration's frozen models, bound to the migrated database."""

    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    return Base
