"""Sessions held by the server: each signed-in browser is a ``UserSession`` row whose random
id the signed session cookie carries. The signed-in user is read with that id in one query
(the hot path of every request); signing out deletes the row, so a copy of the cookie opens
nothing afterwards; a password change deletes every other row of the user. A session
lasts ``SESSION_MAX_SECONDS`` from signing in, wherever its cookie was copied to; the
``sessions`` job deletes the rows of those that ended."""

from __future__ import annotations

import secrets
from datetime import timedelta

from portal.store import db
from portal.store.fields import utcnow
from portal.store.models import User, UserSession


def start(user_id: int) -> str:
    """A new session of the user; returns its id, for the cookie."""
    return UserSession.create(id=secrets.token_urlsafe(32), user=user_id).id


def user_of(session_id: str, max_seconds: int) -> User | None:
    """The user signed in with ``session_id``, if that session is still on: not signed out,
    and begun less than ``max_seconds`` ago."""
    sql = db.compiled_sql("user_by_session", lambda: User.select().join(UserSession).where(
        UserSession.id == "", UserSession.created_at > utcnow()))
    row = db.first_row(sql, session_id, UserSession.created_at.db_value(_ended_if_begun_by(max_seconds)))
    return None if row is None else db.as_model(User, row)


def end_expired(max_seconds: int) -> int:
    """Delete the sessions begun ``max_seconds`` ago or earlier; how many."""
    return UserSession.delete().where(UserSession.created_at <= _ended_if_begun_by(max_seconds)).execute()


def _ended_if_begun_by(max_seconds: int):
    """A session begun at this instant or before has ended."""
    return utcnow() - timedelta(seconds=max_seconds)


def end(session_id: str) -> None:
    UserSession.delete().where(UserSession.id == session_id).execute()


def end_all_but(user_id: int, session_id: str | None) -> None:
    """End every session of the user except ``session_id`` (the one making the change)."""
    UserSession.delete().where(UserSession.user == user_id,
                               UserSession.id != (session_id or "")).execute()
