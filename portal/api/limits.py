"""The per-key rate limit: requests per second, counted in the database so that it holds
across every worker and instance (one conditional UPDATE per request)."""

from __future__ import annotations

from peewee import IntegrityError

from portal.store.db import database
from portal.store.models import ApiRate


def allow(key_id: int, now_seconds: float, per_second: int) -> bool:
    """Count one request of ``key_id`` in the current second; False once over ``per_second``."""
    window = int(now_seconds)
    counted = (ApiRate.update(count=ApiRate.count + 1)
               .where(ApiRate.key == key_id, ApiRate.window == window).execute())
    if not counted:
        moved = (ApiRate.update(window=window, count=1)
                 .where(ApiRate.key == key_id, ApiRate.window != window).execute())
        if not moved:
            try:
                with database.atomic():
                    ApiRate.create(key=key_id, window=window, count=1)
            except IntegrityError:  # another worker made it in the same instant
                ApiRate.update(count=ApiRate.count + 1).where(ApiRate.key == key_id).execute()
        return True
    count = ApiRate.select(ApiRate.count).where(ApiRate.key == key_id).scalar()
    return count <= per_second
