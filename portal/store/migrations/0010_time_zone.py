"""The time zone an account's times are shown in (an IANA name; UTC for accounts made
before the browser was asked)."""
from peewee import CharField


def up(migrator, db):
    migrator.migrate(migrator.add_column("user", "time_zone", CharField(max_length=64, default="UTC")))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("user", "time_zone"))
