"""The staff audit log: every staff action, written in the transaction of the action."""

from __future__ import annotations

from portal.store.models import AuditEntry, User


def record(actor: User, action: str, *, subject_user=None, ticket=None, reason: str = "",
           note: str = "") -> AuditEntry:
    """Write one audit entry (``action`` such as ``refund.approve``, ``account.suspend``)."""
    return AuditEntry.create(actor=actor, action=action, subject_user=subject_user,
                             ticket=ticket, reason=reason[:64], note=note)


def recent(limit: int = 200):
    """The newest audit entries first, with the acting staff member."""
    return (AuditEntry.select(AuditEntry, User).join(User, on=(AuditEntry.actor == User.id))
            .order_by(AuditEntry.id.desc()).limit(limit))
