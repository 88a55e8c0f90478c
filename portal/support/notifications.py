"""Customer notifications: e-mails written to the outbox (``portal.jobs.outbox``).

``queue`` writes the message in the customer's language inside the caller's transaction,
so a notification exists exactly when its event does; a job sends it by SMTP when one is
configured (``portal.jobs.senders``), retrying with backoff. Staff see every message.
"""

from __future__ import annotations

import secrets

from flask_babel import gettext as _

from portal.jobs import outbox
from portal.store.models import OutboxMessage, User
from portal.web.i18n import in_language

KINDS = ("ticket_received", "ticket_answered", "refund_approved", "refund_denied", "refund_failed")


def _texts(kind: str, user: User, ticket, values: dict) -> tuple[str, str]:
    from portal.web.i18n import money, when
    from portal.web.messages import message

    number = ticket.id
    if kind == "ticket_received":
        return (_("Ticket %(number)s received", number=number),
                _("We received your ticket \"%(subject)s\". We answer by %(due)s at the latest.",
                  subject=ticket.subject, due=when(ticket.first_response_due)))
    if kind == "ticket_answered":
        return (_("Ticket %(number)s answered", number=number),
                _("Support answered your ticket \"%(subject)s\". Sign in to read the answer.",
                  subject=ticket.subject))
    if kind == "refund_approved":
        return (_("Refund of %(amount)s approved", amount=money(values["amount"])),
                _("Your refund of %(amount)s goes back to the card you paid with.",
                  amount=money(values["amount"])))
    if kind == "refund_failed":
        return (_("Refund of %(amount)s failed", amount=money(values["amount"])),
                _("The card refund failed; %(amount)s is back in your balance. Support will contact you.",
                  amount=money(values["amount"])))
    note = values.get("note") or ""
    body = _("Your refund request was denied: %(reason)s", reason=message(values["reason"]))
    return _("Refund request denied"), body + ("\n\n" + note if note else "")


def queue(user: User, kind: str, *, ticket, **values) -> OutboxMessage:
    """Write a notification for ``user`` in their language to the outbox (in the caller's
    transaction); a job sends it."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification {kind!r}")
    with in_language(user.language or "en"):
        subject, body = _texts(kind, user, ticket, values)
    return mail(user, kind, f"mail:{kind}:{ticket.id}:{secrets.token_hex(8)}", subject, body)


def mail(user: User, kind: str, key: str, subject: str, body: str) -> OutboxMessage:
    """Write one e-mail to ``user`` to the outbox (in the caller's transaction); ``key``
    makes it once: a second one with the same key is the first."""
    return outbox.add(key=key, channel="email", target=user.email, kind=kind, subject=subject,
                      body=body, user=user)
