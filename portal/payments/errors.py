"""The two ways a payment adapter fails: a webhook we must refuse, or a processor API call."""

from __future__ import annotations

REASONS = (
    "signature.missing",  # no signature header
    "signature.malformed",  # header present but unparseable (no t=, t not an integer)
    "signature.mismatch",  # wrong secret, tampered body, no v1 signature
    "signature.expired",  # signed more than `tolerance` seconds ago
    "signature.future",  # signed more than `tolerance` seconds ahead of our clock
    "payload.malformed",  # signed, but not the JSON shape the processor documents
    "payload.amount",  # an amount that is not an exact, non-negative number
    "payload.currency",  # a currency this portal does not accept
    "payload.status",  # a status the processor does not document
)


class InvalidWebhook(Exception):
    """A webhook the portal must answer with 400 and otherwise ignore.

    ``reason`` is one of ``REASONS``: stable, for logs and tests; ``detail`` is free text.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown InvalidWebhook reason {reason!r}")
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class ProcessorError(Exception):
    """A processor API call was refused or could not complete.

    ``http_status`` is None when no HTTP answer came back (network failure); ``code`` is
    the processor's own error code when it sent one.
    """

    def __init__(self, message: str, *, http_status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.http_status = http_status
        self.code = code
