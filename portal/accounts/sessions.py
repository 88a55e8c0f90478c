"""Sessions held by the server: each signed-in browser is a ``UserSession`` row whose random
id the signed session cookie carries. The signed-in user is read with that id in one query
(the hot path of every request); signing out deletes the row, so a copy of the cookie opens
nothing afterwards; a password change deletes every other row of the user."""

from __future__ import annotations

import secrets

from portal.store import db
from portal.store.models import User, UserSession


def start(user_id: int) -> str:
    """A new session of the user; returns its id, for the cookie."""
    return UserSession.create(id=secrets.token_urlsafe(32), user=user_id).id


def user_of(session_id: str) -> User | None:
    """The user signed in with ``session_id``, if that session is still on."""
    sql = db.compiled_sql("user_by_session", lambda: User.select().join(UserSession).where(
        UserSession.id == ""))
    row = db.first_row(sql, session_id)
    return None if row is None else db.as_model(User, row)


def end(session_id: str) -> None:
    UserSession.delete().where(UserSession.id == session_id).execute()


def end_all_but(user_id: int, session_id: str | None) -> None:
    """End every session of the user except ``session_id`` (the one making the change)."""
    UserSession.delete().where(UserSession.user == user_id,
                               UserSession.id != (session_id or "")).execute()
