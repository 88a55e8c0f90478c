"""Column types shared by the models and the frozen models of the migrations."""

from __future__ import annotations

from datetime import datetime, timezone

from peewee import DateTimeField


class UtcDateTimeField(DateTimeField):
    """An aware UTC datetime, stored as naive UTC so SQLite and PostgreSQL agree."""

    def db_value(self, value):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetimes are not stored: use UTC-aware ones")
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return super().db_value(value)

    def python_value(self, value):
        value = super().python_value(value)
        if isinstance(value, datetime):
            return value.replace(tzinfo=timezone.utc)
        return value


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
