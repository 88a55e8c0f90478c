"""Customer notifications: an outbox table (shown to staff), sent by SMTP when configured.

``queue`` writes the message in the customer's language inside the caller's transaction,
so a notification exists exactly when its event does. ``deliver`` sends queued messages
after the commit: each row is claimed by a conditional UPDATE, so two workers never send
the same message twice. With no ``SMTP_HOST`` messages stay queued in the outbox.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app, has_app_context
from flask_babel import force_locale, gettext as _

from portal.store.fields import utcnow
from portal.store.models import OutboxMessage, User

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
    """Write a notification for ``user`` in their language (not sent yet)."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification {kind!r}")
    with force_locale(user.language or "en"):
        subject, body = _texts(kind, user, ticket, values)
    return OutboxMessage.create(user=user, to_email=user.email, kind=kind, subject=subject[:255],
                                body=body, created_at=utcnow())


def _send(row: OutboxMessage, config) -> None:
    mail = EmailMessage()
    mail["From"] = config["SMTP_FROM"]
    mail["To"] = row.to_email
    mail["Subject"] = row.subject
    mail.set_content(row.body)
    with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"] or 25), timeout=10) as smtp:
        if config.get("SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
        smtp.send_message(mail)


def deliver(config=None, limit: int = 50) -> int:
    """Send queued messages by SMTP (when configured); the number sent."""
    if config is None:
        config = current_app.config if has_app_context() else {}
    if not config.get("SMTP_HOST"):
        return 0
    sent = 0
    for row in OutboxMessage.select().where(OutboxMessage.state == "queued").order_by(OutboxMessage.id).limit(limit):
        claimed = OutboxMessage.update(state="sending").where(
            OutboxMessage.id == row.id, OutboxMessage.state == "queued").execute()
        if not claimed:
            continue
        try:
            _send(row, config)
        except (OSError, smtplib.SMTPException) as failed:
            OutboxMessage.update(state="failed", error=str(failed)[:255]).where(
                OutboxMessage.id == row.id).execute()
            continue
        OutboxMessage.update(state="sent", sent_at=utcnow()).where(OutboxMessage.id == row.id).execute()
        sent += 1
    return sent


def recent(limit: int = 200):
    return OutboxMessage.select().order_by(OutboxMessage.id.desc()).limit(limit)
