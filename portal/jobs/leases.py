"""Leases: work that only one consumer may do at a time (the ticker), claimed in the
database for a few seconds and renewed while the work goes on. A consumer killed while
holding a lease blocks the others only until it lapses."""

from __future__ import annotations

from datetime import datetime, timedelta

from peewee import IntegrityError

from portal.store.db import database
from portal.store.fields import utcnow
from portal.store.models import Lease


def take(name: str, holder: str, seconds: float, now: datetime | None = None) -> bool:
    """Claim or renew ``name`` for ``holder`` until ``seconds`` from now; False when
    another holder has it and it has not lapsed."""
    now = now or utcnow()
    until = now + timedelta(seconds=seconds)
    renewed = Lease.update(holder=holder, expires_at=until).where(
        Lease.name == name, (Lease.holder == holder) | (Lease.expires_at < now)).execute()
    if renewed:
        return True
    try:
        with database.atomic():
            Lease.create(name=name, holder=holder, expires_at=until)
        return True
    except IntegrityError:  # it exists and someone else holds it
        return False


def release(name: str, holder: str) -> None:
    """Give ``name`` up at once (only its holder can)."""
    Lease.delete().where(Lease.name == name, Lease.holder == holder).execute()
