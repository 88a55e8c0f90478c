"""Customer webhooks: when an SMS arrives for a number rented with a key that has a webhook
URL, the portal POSTs the protocol's JSON (``activationId, service, text, code, country,
receivedAt``) to it, through the outbox (written in the transaction that records the SMS).

Each request carries ``X-Webhook-Id`` (the same on every retry of one event) and
``X-Webhook-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the key's
webhook secret>``. A 2xx answer ends the retries; others are retried with the outbox's
backoff for 24 hours. URLs must be https (http only to loopback in demo mode); a host that
resolves to a private, loopback, link-local or otherwise non-public address is refused
outside demo mode (loopback only is allowed there); 5 s timeout, redirects not followed.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Callable

from portal.api.protocol import country_id
from portal.jobs import outbox
from portal.jobs.outbox import DeliveryFailed
from portal.store.fields import utcnow
from portal.store.models import ApiKey, OutboxMessage, Rental, RentalMessage

CHANNEL = "webhook"
TIMEOUT_SECONDS = 5
SIGNATURE_HEADER = "X-Webhook-Signature"
ID_HEADER = "X-Webhook-Id"

Resolve = Callable[[str], list[str]]


class BadUrl(ValueError):
    """A webhook URL the portal will not call; ``reason`` is a message code."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _addresses(host: str) -> list[str]:
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, None)})
    except (socket.gaierror, UnicodeError):
        return []


def check_url(url: str, *, demo: bool, resolve: Resolve = _addresses) -> str:
    """``url`` if the portal may call it; ``BadUrl`` otherwise."""
    url = url.strip()
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        raise BadUrl("webhook.url_invalid") from None
    if parts.scheme not in ("https", "http") or not parts.hostname or len(url) > 2048 or parts.username:
        raise BadUrl("webhook.url_invalid")
    try:
        addresses = [str(ipaddress.ip_address(parts.hostname))]  # an address, not a name
    except ValueError:
        addresses = resolve(parts.hostname)
    if not addresses:
        raise BadUrl("webhook.url_unresolvable")
    loopback = all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)
    if demo and loopback:
        return url
    if parts.scheme != "https":
        raise BadUrl("webhook.url_not_https")
    if not all(ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses):
        raise BadUrl("webhook.url_private")
    return url


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does (and the documentation shows): check the signature and its age."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), f"t={timestamp},v1={fields.get('v1', '')}")


def queue_sms(rental: Rental, message: RentalMessage) -> OutboxMessage | None:
    """Write the webhook of one recorded SMS (in the caller's transaction), if the rental's
    key has a webhook URL."""
    if rental.api_key_id is None:
        return None
    key = ApiKey.get_by_id(rental.api_key_id)
    if not key.webhook_url or key.revoked_at is not None:
        return None
    body = json.dumps({
        "activationId": rental.id, "service": rental.service.code, "text": message.text,
        "code": message.code or "", "country": country_id(rental.country),
        "receivedAt": message.received_at.strftime("%Y-%m-%d %H:%M:%S"),
    }, ensure_ascii=False)
    return outbox.add(key=f"webhook:sms:{message.id}", channel=CHANNEL, target=key.webhook_url,
                      kind="sms", body=body, headers={"api_key_id": str(key.id)}, user=rental.user_id)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a redirect answer is the answer: not followed


def sender(*, demo: bool, resolve: Resolve = _addresses):
    """The outbox sender of the ``webhook`` channel."""
    opener = urllib.request.build_opener(_NoRedirects)

    def send(row: OutboxMessage) -> None:
        key = ApiKey.get_by_id(int(json.loads(row.headers)["api_key_id"]))
        try:
            url = check_url(row.target, demo=demo, resolve=resolve)
        except BadUrl as bad:
            raise DeliveryFailed(bad.reason) from None
        body = row.body.encode()
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": "1001sms-webhooks",
            ID_HEADER: row.key, SIGNATURE_HEADER: signature(key.webhook_secret, int(time.time()), body)})
        try:
            with opener.open(request, timeout=TIMEOUT_SECONDS) as answer:
                status = answer.status
        except urllib.error.HTTPError as error:
            status = error.code
        except (OSError, ValueError) as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}"[:200]) from None
        if not 200 <= status < 300:
            raise DeliveryFailed(f"answered {status}")

    return send


def deliveries(user_id: int, limit: int = 50) -> list[OutboxMessage]:
    return list(OutboxMessage.select().where(OutboxMessage.channel == CHANNEL, OutboxMessage.user == user_id)
                .order_by(OutboxMessage.id.desc()).limit(limit))


def send_again(user_id: int, row_id: int) -> bool:
    """The customer's "send again": a delivered or dead webhook is due at once."""
    return bool(OutboxMessage.update(state=outbox.PENDING, tries=0, next_attempt_at=utcnow(), claimed_until=None)
                .where(OutboxMessage.id == row_id, OutboxMessage.user == user_id,
                       OutboxMessage.channel == CHANNEL, OutboxMessage.state.in_((outbox.SENT, outbox.DEAD)))
                .execute())
