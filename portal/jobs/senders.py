"""How each outbox channel is delivered (``portal.jobs.outbox`` calls them).

- ``email``: by SMTP, when ``SMTP_HOST`` is configured (otherwise the channel has no
  sender and its rows wait in the outbox, shown to staff). The row's key becomes the
  mail's ``Message-ID``, so a mail sent twice is one message to the receiving side.
- ``webhook``: a customer's webhook, signed (``portal.api.webhooks``).
- ``loopback``: a signed request to one of the portal's own webhook endpoints, through
  the whole WSGI stack of the consumer's app, as the outside processor would send it (the
  demo processor's events). The row's key travels as ``Idempotency-Key``; the endpoints
  deduplicate by the event's own id as well.
"""

from __future__ import annotations

import json
import smtplib
from email.message import EmailMessage

from flask import Flask

from portal.jobs.outbox import DeliveryFailed, Sender
from portal.store.models import OutboxMessage


def email_sender(config) -> Sender | None:
    """The SMTP sender of ``config``; None when no mail server is configured."""
    if not config.get("SMTP_HOST"):
        return None

    def send(row: OutboxMessage) -> None:
        mail = EmailMessage()
        mail["From"] = config["SMTP_FROM"]
        mail["To"] = row.target
        mail["Subject"] = row.subject
        # The same on every try of the row (make_msgid would add a new time and random part)
        mail["Message-ID"] = f"<{row.key.replace(':', '.')}@1001sms.com>"
        mail.set_content(row.body)
        try:
            with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"] or 25),
                              timeout=10) as smtp:
                if config.get("SMTP_STARTTLS"):
                    smtp.starttls()
                if config.get("SMTP_USER"):
                    smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as failed:
            raise DeliveryFailed(f"SMTP: {failed}") from None

    return send


def loopback_sender(app: Flask) -> Sender:
    """POST a row to ``app``'s own endpoint ``row.target``; any answer but 2xx fails the try."""

    def send(row: OutboxMessage) -> None:
        headers = {"Content-Type": "application/json", **json.loads(row.headers),
                   "Idempotency-Key": row.key}
        with app.app_context():  # shares no ``g`` with whatever caused the event
            answer = app.test_client().post(row.target, data=row.body.encode(), headers=headers)
        if not 200 <= answer.status_code < 300:
            raise DeliveryFailed(f"{row.target} answered {answer.status_code}")

    return send


def senders_for(app: Flask) -> dict[str, Sender]:
    """Every channel ``app`` can deliver now."""
    from portal.api import webhooks

    found = {"loopback": loopback_sender(app),
             webhooks.CHANNEL: webhooks.sender(demo=app.config["DEMO_MODE"])}
    email = email_sender(app.config)
    if email is not None:
        found["email"] = email
    return found
