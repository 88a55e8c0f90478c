"""API keys: made on the account page or by ``flask --app portal api-key create``, shown once,
kept as a sha256 (a key is 32 random hex characters, so a fast hash is as safe as a slow
one, and every request can afford it), named, revocable, with created and last-used times.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from portal.store import db
from portal.store.fields import utcnow
from portal.store.models import ApiKey, User

NAME_LENGTH = 64
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per key


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create(user: User, name: str = "", now: datetime | None = None) -> tuple[ApiKey, str]:
    """A new key for ``user``: the stored row, and the key itself (shown once, kept nowhere)."""
    key = secrets.token_hex(16)
    row = ApiKey.create(user=user, name=(name.strip() or "API key")[:NAME_LENGTH], prefix=key[:8],
                        digest=digest(key), webhook_secret=secrets.token_hex(32),
                        created_at=now or utcnow())
    return row, key


def find(key: str | None) -> ApiKey | None:
    """The live key ``key`` names (its ``id``, ``user`` and ``last_used_at``), or None.

    Every API request starts here: one query, its SQL generated once (as the signed-in
    user's is, ``portal.accounts.sessions``), because generating it cost more than running it
    (getStatus at 16 connections, ``bench/api_bench.py``: see the module ``portal.api``).
    """
    if not key or len(key) > 128:
        return None
    sql = db.compiled_sql("user_by_api_key", lambda: ApiKey.select(
        ApiKey.id, ApiKey.last_used_at, User,
    ).join(User).where(ApiKey.digest == "", ApiKey.revoked_at.is_null()))
    row = db.first_row(sql, digest(key))
    if row is None:
        return None
    return ApiKey(id=row[0], last_used_at=ApiKey.last_used_at.python_value(row[1]),
                  user=db.as_model(User, row[2:]))


def touch(row: ApiKey, now: datetime | None = None) -> None:
    now = now or utcnow()
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        ApiKey.update(last_used_at=now).where(ApiKey.id == row.id).execute()


def revoke(user: User, key_id: int, now: datetime | None = None) -> bool:
    return bool(ApiKey.update(revoked_at=now or utcnow()).where(
        ApiKey.id == key_id, ApiKey.user == user.id, ApiKey.revoked_at.is_null()).execute())


def of_user(user_id: int) -> list[ApiKey]:
    return list(ApiKey.select().where(ApiKey.user == user_id).order_by(ApiKey.id.desc()))
