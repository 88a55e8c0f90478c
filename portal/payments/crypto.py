"""Crypto deposits through a processor following NOWPayments' conventions.

Invoices: ``POST {api_base}/v1/invoice`` with header ``x-api-key``; the customer pays on
the processor's hosted page. Callbacks (IPN): the processor POSTs the payment as JSON with
``x-nowpayments-sig`` = hex HMAC-SHA512, keyed by the IPN secret, of the body re-serialized
as NOWPayments documents it: ``JSON.stringify`` of the object with keys sorted
(recursively), i.e. no spaces. ``canonical_json`` reproduces that string, including
JavaScript's number formatting (``0.00005`` stays ``0.00005``, ``100.0`` becomes ``100``),
where Python's ``json.dumps`` of floats would write ``5e-05`` and ``100.0``.

Amounts (see ``parse_ipn``) become ``int`` smallest units of the coin and ``int`` USD cents;
``Decimal``/``Fraction`` exist only while parsing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .amounts import positive_cents
from .errors import InvalidWebhook, ProcessorError

API_BASE = "https://api.nowpayments.io"
SIGNATURE_HEADER = "x-nowpayments-sig"


@dataclass(frozen=True)
class Coin:
    code: str
    decimals: int  # smallest unit = 10**-decimals of a coin
    unit: str
    invoice_ticker: str  # what create_invoice asks the processor for

    @property
    def minor_per_coin(self) -> int:
        return 10**self.decimals


CURRENCIES = {
    "BTC": Coin("BTC", 8, "satoshi", "btc"),
    "ETH": Coin("ETH", 18, "wei", "eth"),
    "USDT": Coin("USDT", 6, "micro-USDT", "usdttrc20"),
}
# Processor tickers (lower case) -> our currency. USDT is the same dollar token on every
# network; its smallest unit here is 10**-6 whatever the chain's own decimals.
TICKERS = {
    "btc": "BTC",
    "eth": "ETH",
    "usdt": "USDT",
    "usdttrc20": "USDT",
    "usdterc20": "USDT",
    "usdtbsc": "USDT",
    "usdtsol": "USDT",
    "usdtmatic": "USDT",
}
STATUSES = (
    "waiting",
    "confirming",
    "confirmed",
    "sending",
    "partially_paid",
    "finished",
    "failed",
    "expired",
    "refunded",
)
FAILED_STATUSES = frozenset({"failed", "expired"})


@dataclass(frozen=True)
class Invoice:
    id: str
    url: str


@dataclass(frozen=True)
class IpnUpdate:
    """One signed IPN callback. Amounts are ints; see ``parse_ipn`` for the formulas."""

    payment_id: str
    order_id: str
    status: str
    pay_currency: str
    paid_minor: int
    pay_amount_minor: int
    settled_usd_cents: int
    is_finished: bool
    is_failed: bool


def normalize_currency(ticker: Any) -> str:
    """BTC, ETH or USDT for a processor ticker such as ``usdttrc20``; else InvalidWebhook."""
    code = TICKERS.get(ticker.strip().lower()) if isinstance(ticker, str) else None
    if code is None:
        raise InvalidWebhook("payload.currency", f"pay_currency {ticker!r}")
    return code


def js_number(value: int | float | Decimal) -> str:
    """Format a number as JavaScript's ``JSON.stringify`` would after parsing it.

    JavaScript holds every JSON number as an IEEE double and prints the shortest digits that
    round-trip (as Python's ``repr`` does) but switches to exponent notation at other
    thresholds (below 1e-6 and from 1e21), and never writes ``.0``.
    """
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{value!r} has no JSON form")
    if number == 0:
        return "0"
    if number < 0:
        return "-" + js_number(-number)
    _, digits, exponent = Decimal(repr(number)).normalize().as_tuple()
    s = "".join(map(str, digits))
    k = len(s)
    n = exponent + k  # the value is 0.s * 10**n
    if k <= n <= 21:
        return s + "0" * (n - k)
    if 0 < n <= 21:
        return s[:n] + "." + s[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + s
    e = n - 1
    mantissa = s if k == 1 else s[0] + "." + s[1:]
    return f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"


def canonical_json(value: Any) -> str:
    """``JSON.stringify`` of ``value`` with every object's keys sorted, as NOWPayments signs."""
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(f"{canonical_json(k)}:{canonical_json(v)}" for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(canonical_json(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, (int, float, Decimal)):
        return js_number(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def signature(body: dict, secret: str) -> str:
    """Hex HMAC-SHA512 of ``canonical_json(body)`` keyed by the IPN secret."""
    message = canonical_json(body).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha512).hexdigest()


_DECIMAL_STRING = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")  # Decimal() reads any script's digits
# Amounts (coins or USD) below 10**21: far above any payment, far below what breaks ints.
MAX_DIGITS = 21
MAX_DECIMALS = 18  # a wei


def _exact(value: Any, field: str) -> Fraction:
    """A non-negative amount, exactly: a JSON number or a decimal string.

    A JSON number must equal the double the signature was computed over: more digits
    than a double holds could be changed without changing the signature.
    """
    if isinstance(value, bool) or value is None:
        raise InvalidWebhook("payload.amount", f"{field} is {value!r}")
    if isinstance(value, str):
        if not _DECIMAL_STRING.fullmatch(value):
            raise InvalidWebhook("payload.amount", f"{field} is {value!r}")
        return _bounded(Decimal(value), field)
    if isinstance(value, (int, Decimal)):
        exact = _bounded(Decimal(value), field)
        if exact < 0 or exact != Fraction(Decimal(js_number(value))):
            raise InvalidWebhook("payload.amount", f"{field} {value} is not a signed double")
        return exact
    raise InvalidWebhook("payload.amount", f"{field} is {value!r}")


def _bounded(value: Decimal, field: str) -> Fraction:
    # Checked before the exact conversion: "1e5000" would become a 5,000-digit integer.
    if value.is_finite() and (value.is_zero() or (
            -MAX_DIGITS - MAX_DECIMALS <= value.adjusted() < MAX_DIGITS
            and len(value.as_tuple().digits) <= MAX_DIGITS + MAX_DECIMALS)):
        return Fraction(value)
    raise InvalidWebhook("payload.amount", f"{field} {value} is beyond any amount")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _text(body: dict, field: str) -> str:
    value = body.get(field)
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise InvalidWebhook("payload.malformed", f"{field} is {value!r}")
    if isinstance(value, int):
        _exact(value, field)
    return str(value)


def parse_ipn(raw_body: bytes, signature_header: str | None, secret: str) -> IpnUpdate:
    """Verify an IPN callback and reduce it to an IpnUpdate.

    Amount rules (all exact, on rationals, then rounded down once):
    - ``paid_minor = floor(actually_paid * 10**decimals)``; ``pay_amount_minor`` likewise.
      The processor quotes at most the coin's decimals, so the floor only ever drops
      digits finer than the smallest unit.
    - ``settled_usd_cents = floor(price_amount * 100 * min(actually_paid, pay_amount)
      / pay_amount)``: the coins that arrived, valued at the payment's own quoted rate
      (``price_amount`` USD for ``pay_amount`` coins). Network fees are the user's: a
      wallet that deducts them sends less, and less is credited. Overpayment is not
      credited beyond the price (a locked rate must not become a bet on the market).
      ``outcome_amount`` is not used: it is net of the processor's service fee (ours)
      and is in our payout currency, which need not be USD.
    """
    if not secret:
        raise ValueError("CRYPTO_IPN_SECRET is not configured")
    if not signature_header:
        raise InvalidWebhook("signature.missing")
    try:
        body = json.loads(raw_body, parse_float=Decimal, parse_constant=_reject_constant)
        expected = signature(body, secret) if isinstance(body, dict) else None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise InvalidWebhook("payload.malformed", str(exc)) from exc
    if expected is None:
        raise InvalidWebhook("payload.malformed", "body is not a JSON object")
    given = signature_header.strip().lower().encode("utf-8", "replace")
    if not hmac.compare_digest(expected.encode("ascii"), given):
        raise InvalidWebhook("signature.mismatch")
    return read_payment(body)


def read_payment(body: dict) -> IpnUpdate:
    """A payment as the processor describes it (an IPN's body, or one payment of its API's
    answer) reduced to an IpnUpdate with the amount rules of ``parse_ipn``."""
    status = body.get("payment_status")
    if status not in STATUSES:
        raise InvalidWebhook("payload.status", f"payment_status {status!r}")
    price_currency = body.get("price_currency")
    if not isinstance(price_currency, str) or price_currency.lower() != "usd":
        raise InvalidWebhook("payload.currency", f"price_currency {price_currency!r}")
    coin = CURRENCIES[normalize_currency(body.get("pay_currency"))]
    price = _exact(body.get("price_amount"), "price_amount")
    pay_amount = _exact(body.get("pay_amount"), "pay_amount")
    actually_paid = _exact(body.get("actually_paid") or 0, "actually_paid")
    if pay_amount == 0 and actually_paid:
        raise InvalidWebhook("payload.amount", "actually_paid without pay_amount")
    credited = min(actually_paid, pay_amount)
    settled = price * 100 * credited / pay_amount if pay_amount else Fraction(0)
    return IpnUpdate(
        payment_id=_text(body, "payment_id"),
        order_id=_text(body, "order_id"),
        status=status,
        pay_currency=coin.code,
        paid_minor=math.floor(actually_paid * coin.minor_per_coin),
        pay_amount_minor=math.floor(pay_amount * coin.minor_per_coin),
        settled_usd_cents=math.floor(settled),
        is_finished=status == "finished",
        is_failed=status in FAILED_STATUSES,
    )


def create_invoice(
    *,
    api_key: str,
    deposit_reference: str,
    amount_cents: int,
    pay_currency: str,
    ipn_callback_url: str,
    success_url: str,
    cancel_url: str,
    api_base: str = API_BASE,
    order_description: str = "1001sms.com balance deposit",
    timeout: float = 15.0,
) -> Invoice:
    """Create a hosted invoice for ``amount_cents`` USD payable in ``pay_currency``
    (BTC, ETH or USDT); its IPNs carry ``order_id = deposit_reference``."""
    coin = CURRENCIES[pay_currency]
    body = {
        "price_amount": Decimal(positive_cents(amount_cents)).scaleb(-2),
        "price_currency": "usd",
        "pay_currency": coin.invoice_ticker,
        "order_id": deposit_reference,
        "order_description": order_description,
        "ipn_callback_url": ipn_callback_url,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "is_fixed_rate": True,
        "is_fee_paid_by_user": False,
    }
    request = urllib.request.Request(
        api_base.rstrip("/") + "/v1/invoice",
        data=canonical_json(body).encode("utf-8"),
        method="POST",
        headers={
            "x-api-key": api_key,
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    answer = _send(request, timeout)
    invoice_id, url = answer.get("id"), answer.get("invoice_url")
    if isinstance(invoice_id, bool) or not isinstance(invoice_id, (str, int)) or not isinstance(url, str):
        raise ProcessorError(f"unexpected invoice answer: {answer!r}")
    return Invoice(id=str(invoice_id), url=url)


def _send(request: urllib.request.Request, timeout: float) -> dict:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        raise ProcessorError(_error_message(exc), http_status=exc.code) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise ProcessorError(f"processor unreachable: {exc}") from exc
    try:
        answer = json.loads(raw, parse_float=Decimal)
    except ValueError as exc:
        raise ProcessorError("processor answered with non-JSON") from exc
    if not isinstance(answer, dict):
        raise ProcessorError(f"unexpected answer: {answer!r}")
    return answer


def _error_message(exc: urllib.error.HTTPError) -> str:
    try:
        detail = json.loads(exc.read()).get("message")
    except (ValueError, AttributeError):
        detail = None
    return f"processor answered {exc.code}" + (f": {detail}" if detail else "")


def invoice_payments(*, api_key: str, invoice_id: str, api_base: str = API_BASE,
                     timeout: float = 15.0) -> list[IpnUpdate]:
    """Every payment the processor received for an invoice (``GET /v1/payment/?invoiceId=``),
    for reconciliation when an IPN was lost. A payment that does not read as one raises
    ``InvalidWebhook``; an unreachable processor ``ProcessorError``."""
    query = urllib.parse.urlencode({"invoiceId": invoice_id, "limit": 100, "page": 0,
                                    "sortBy": "created_at", "orderBy": "asc"})
    request = urllib.request.Request(
        f"{api_base.rstrip('/')}/v1/payment/?{query}",
        headers={"x-api-key": api_key, "Accept": "application/json"},
    )
    listed = _send(request, timeout).get("data")
    if not isinstance(listed, list) or not all(isinstance(item, dict) for item in listed):
        raise ProcessorError(f"unexpected payments answer: {listed!r}")
    return [read_payment(item) for item in listed]
