"""Tables of cases for portal.payments.crypto: signatures, statuses, currencies, amounts, invoices."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from decimal import Decimal

import pytest

from portal.payments import crypto
from portal.payments.errors import InvalidWebhook, ProcessorError

SECRET = "ipn-secret"

BASE = {
    "payment_id": 5077125051,
    "parent_payment_id": None,
    "invoice_id": 4522625843,
    "payment_status": "finished",
    "pay_address": "bc1qexample",
    "price_amount": 20,
    "price_currency": "usd",
    "pay_amount": 0.0003,
    "actually_paid": 0.0003,
    "actually_paid_at_fiat": 0,
    "pay_currency": "btc",
    "order_id": "dep_42",
    "order_description": "1001sms.com balance deposit",
    "purchase_id": "5837122679",
    "outcome_amount": 0.00029,
    "outcome_currency": "btc",
    "fee": {"currency": "btc", "depositFee": 0, "withdrawalFee": 0, "serviceFee": 0.000001},
}


def raw_body(**changes) -> str:
    """An IPN body in the processor's own (unsorted, spaced) layout; values as JSON text."""
    fields = {k: json.dumps(v) for k, v in BASE.items()}
    fields.update(changes)
    return "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}"


def js_sign(canonical: str, secret: str = SECRET) -> str:
    """The processor's side: HMAC-SHA512 over the JSON.stringify text, computed by hand."""
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha512).hexdigest()


def signed(raw: str) -> tuple[bytes, str]:
    return raw.encode(), crypto.signature(json.loads(raw, parse_float=Decimal), SECRET)


def parse(**changes) -> crypto.IpnUpdate:
    return crypto.parse_ipn(*signed(raw_body(**changes)), SECRET)


def reason_of(body: bytes, header, secret=SECRET) -> str | None:
    try:
        crypto.parse_ipn(body, header, secret)
    except InvalidWebhook as exc:
        return exc.reason
    return None


# JSON.stringify(JSON.parse(text)) as printed by node, for the numbers where Python differs.
JS_NUMBERS = [
    ("0.00005", "0.00005"),
    ("100.0", "100"),
    ("1e-7", "1e-7"),
    ("1e-6", "0.000001"),
    ("0.0000001234", "1.234e-7"),
    ("1e21", "1e+21"),
    ("999999999999999999999", "1e+21"),
    ("12345678901234567890", "12345678901234567000"),
    ("1.234567890123456789", "1.2345678901234567"),
    ("0.30000000000000004", "0.30000000000000004"),
    ("123.456", "123.456"),
    ("2.675", "2.675"),
    ("-0.5", "-0.5"),
    ("0", "0"),
    ("1.5e300", "1.5e+300"),
    ("5e-324", "5e-324"),
]


@pytest.mark.parametrize("text, expected", JS_NUMBERS)
def test_js_number_matches_json_stringify(text, expected):
    assert crypto.js_number(json.loads(text, parse_float=Decimal)) == expected


def test_canonical_json_is_sorted_compact_and_keeps_unicode():
    body = json.loads('{"b": 1, "a": {"d": 0.00005, "c": "é\\u2028\\n\\u0001/"}, "é": [1, 2.50]}', parse_float=Decimal)
    assert crypto.canonical_json(body) == '{"a":{"c":"é\u2028\\n\\u0001/","d":0.00005},"b":1,"é":[1,2.5]}'


def test_canonical_json_equals_json_dumps_sorted_for_ints_and_strings():
    body = {"z": "x y", "a": [3, {"k": None, "b": True}], "m": 10**15}
    assert crypto.canonical_json(body) == json.dumps(body, sort_keys=True, separators=(",", ":"))


def test_signature_is_hmac_sha512_of_the_sorted_json():
    body = {"payment_status": "finished", "actually_paid": Decimal("0.00005"), "payment_id": 1}
    canonical = '{"actually_paid":0.00005,"payment_id":1,"payment_status":"finished"}'
    assert crypto.signature(body, SECRET) == js_sign(canonical)
    assert len(crypto.signature(body, SECRET)) == 128


GOOD_RAW = raw_body()
GOOD_BODY, GOOD_SIG = signed(GOOD_RAW)

SIGNATURE_CASES = [
    ("valid", GOOD_BODY, GOOD_SIG, None),
    ("upper-case hex", GOOD_BODY, GOOD_SIG.upper(), None),
    ("surrounding spaces", GOOD_BODY, f" {GOOD_SIG} ", None),
    ("re-serialized body", json.dumps(json.loads(GOOD_RAW), sort_keys=True).encode(), GOOD_SIG, None),
    ("header missing", GOOD_BODY, None, "signature.missing"),
    ("header empty", GOOD_BODY, "", "signature.missing"),
    ("tampered amount", GOOD_BODY.replace(b'"actually_paid": 0.0003', b'"actually_paid": 0.0004'), GOOD_SIG, "signature.mismatch"),
    ("tampered status", raw_body(payment_status='"partially_paid"').encode(), GOOD_SIG, "signature.mismatch"),
    ("wrong secret", GOOD_BODY, crypto.signature(json.loads(GOOD_RAW, parse_float=Decimal), "other"), "signature.mismatch"),
    ("truncated signature", GOOD_BODY, GOOD_SIG[:-2], "signature.mismatch"),
    ("non-ASCII signature", GOOD_BODY, "é" * 128, "signature.mismatch"),
    ("sha256 instead", GOOD_BODY, hmac.new(SECRET.encode(), GOOD_BODY, hashlib.sha256).hexdigest(), "signature.mismatch"),
    ("malformed JSON", b'{"payment_id": 1', GOOD_SIG, "payload.malformed"),
    ("JSON array", b"[1, 2]", GOOD_SIG, "payload.malformed"),
    ("NaN", b'{"actually_paid": NaN}', GOOD_SIG, "payload.malformed"),
    ("infinite number", b'{"actually_paid": 1e400}', GOOD_SIG, "payload.malformed"),
    ("not UTF-8", b"\xff\xfe\x00", GOOD_SIG, "payload.malformed"),
]


@pytest.mark.parametrize(
    "body, header, reason", [case[1:] for case in SIGNATURE_CASES], ids=[case[0] for case in SIGNATURE_CASES]
)
def test_parse_ipn_signature(body, header, reason):
    assert reason_of(body, header) == reason


def test_parse_ipn_without_secret_is_a_configuration_error():
    with pytest.raises(ValueError):
        crypto.parse_ipn(GOOD_BODY, GOOD_SIG, "")


STATUS_FLAGS = {
    # status: (is_finished, is_failed)
    "waiting": (False, False),
    "confirming": (False, False),
    "confirmed": (False, False),
    "sending": (False, False),
    "partially_paid": (False, False),
    "finished": (True, False),
    "failed": (False, True),
    "expired": (False, True),
    "refunded": (False, False),
}


def test_every_documented_status_has_a_row():
    assert set(STATUS_FLAGS) == set(crypto.STATUSES)


@pytest.mark.parametrize("status, flags", STATUS_FLAGS.items())
def test_every_status(status, flags):
    update = parse(payment_status=json.dumps(status))
    assert update.status == status
    assert (update.is_finished, update.is_failed) == flags


@pytest.mark.parametrize("status", ['"FINISHED"', '"paid"', '""', "null", "1"])
def test_unknown_status(status):
    assert reason_of(*signed(raw_body(payment_status=status))) == "payload.status"


@pytest.mark.parametrize(
    "ticker, code",
    [
        ("btc", "BTC"),
        ("BTC", "BTC"),
        ("eth", "ETH"),
        ("usdttrc20", "USDT"),
        ("usdterc20", "USDT"),
        ("USDTTRC20", "USDT"),
        ("usdtbsc", "USDT"),
        ("usdtsol", "USDT"),
        ("usdtmatic", "USDT"),
        ("usdt", "USDT"),
    ],
)
def test_currency_normalization(ticker, code):
    assert crypto.normalize_currency(ticker) == code
    update = parse(pay_currency=json.dumps(ticker))
    assert update.pay_currency == code


@pytest.mark.parametrize("ticker", ["ltc", "usdc", "xmr", "btcln", "", None, 5, "usd"])
def test_unknown_currency(ticker):
    with pytest.raises(InvalidWebhook, match="payload.currency"):
        crypto.normalize_currency(ticker)
    assert reason_of(*signed(raw_body(pay_currency=json.dumps(ticker)))) == "payload.currency"


@pytest.mark.parametrize("price_currency", ['"eur"', '"btc"', "null"])
def test_price_must_be_in_usd(price_currency):
    assert reason_of(*signed(raw_body(price_currency=price_currency))) == "payload.currency"


def test_price_currency_case_is_ignored():
    assert parse(price_currency='"USD"').settled_usd_cents == 2000


def test_currencies_and_their_smallest_units():
    units = {code: (coin.decimals, coin.unit, coin.minor_per_coin) for code, coin in crypto.CURRENCIES.items()}
    assert units == {
        "BTC": (8, "satoshi", 10**8),
        "ETH": (18, "wei", 10**18),
        "USDT": (6, "micro-USDT", 10**6),
    }


AMOUNT_CASES = [
    # (coin, price_amount, pay_amount, actually_paid as JSON text) -> (paid_minor, pay_minor, settled_cents)
    ("btc", "20", "0.0003", "0.0003", (30_000, 30_000, 2000)),
    # floats would give 28999999 satoshi and 28 cents here
    ("btc", "0.29", "0.29", "0.29", (29_000_000, 29_000_000, 29)),
    ("btc", "0.3", "0.3", "0.30000000000000004", (30_000_000, 30_000_000, 30)),
    ("btc", "10.00", "0.001", "0.0005", (50_000, 100_000, 500)),
    # a wallet deducted the network fee: 29000 of 30000 satoshi -> 19.333... USD, floored
    ("btc", "20", "0.0003", "0.00029", (29_000, 30_000, 1933)),
    # overpaid: the coins are recorded, the credit stops at the price
    ("btc", "20", "0.0003", "0.0006", (60_000, 30_000, 2000)),
    ("btc", "20", "0.0003", "0", (0, 30_000, 0)),
    ("btc", "20", "0.0003", "null", (0, 30_000, 0)),
    ("btc", "20", "0.00001", "1e-5", (1_000, 1_000, 2000)),
    ("btc", "20", "0.0003", "0.00005", (5_000, 30_000, 333)),
    ("eth", "25", '"1.234567890123456789"', '"1.234567890123456789"', (1_234_567_890_123_456_789, 1_234_567_890_123_456_789, 2500)),
    ("eth", "25", '"1.234567890123456789"', '"0.617283945061728394"', (617_283_945_061_728_394, 1_234_567_890_123_456_789, 1249)),
    ("eth", "25", "0.01", "1e-18", (1, 10**16, 0)),
    ("eth", "25", "0.01", "0.000000000000000001", (1, 10**16, 0)),
    ("eth", "25", "0.0123456789012345", "0.0123456789012345", (12_345_678_901_234_500, 12_345_678_901_234_500, 2500)),
    ("usdttrc20", "10.12", "10.123456", "10.123456", (10_123_456, 10_123_456, 1012)),
    # digits finer than a micro-USDT are dropped, never rounded up
    ("usdttrc20", "5", '"5.0000009"', '"4.9999999"', (4_999_999, 5_000_000, 499)),
    ("usdterc20", "0.1", "0.1", "0.1", (100_000, 100_000, 10)),
    ("usdttrc20", "1000000", "1000000", "999999.999999", (999_999_999_999, 1_000_000_000_000, 99_999_999)),
    ("btc", "19.999", "0.0003", "0.0003", (30_000, 30_000, 1999)),
    ("btc", '"20.00"', '"0.0003"', '"0.0003"', (30_000, 30_000, 2000)),
    ("btc", "20", "0", "0", (0, 0, 0)),
]


@pytest.mark.parametrize("ticker, price, pay, paid, expected", AMOUNT_CASES)
def test_exact_amounts(ticker, price, pay, paid, expected):
    update = parse(pay_currency=json.dumps(ticker), price_amount=price, pay_amount=pay, actually_paid=paid)
    got = (update.paid_minor, update.pay_amount_minor, update.settled_usd_cents)
    assert got == expected
    assert all(type(value) is int for value in got)


@pytest.mark.parametrize(
    "field, text",
    [
        ("actually_paid", "-0.0001"),
        ("actually_paid", "true"),
        ("actually_paid", '"abc"'),
        ("actually_paid", '"1,5"'),
        ("actually_paid", '"-1"'),
        ("actually_paid", '" 1"'),
        ("actually_paid", '"NaN"'),
        ("actually_paid", '"\u0661.5"'),  # Decimal() takes any script's digits
        ("actually_paid", '"\uff11"'),
        ("actually_paid", "[1]"),
        ("price_amount", "null"),
        ("pay_amount", "null"),
        # more digits than the signed double holds: they could change without the signature
        ("actually_paid", "1.000000000000000001"),
        ("actually_paid", "12345678901234567890"),
    ],
)
def test_bad_amounts(field, text):
    assert reason_of(*signed(raw_body(**{field: text}))) == "payload.amount"


def test_paid_without_a_quote_is_refused():
    assert reason_of(*signed(raw_body(pay_amount="0", actually_paid="0.1"))) == "payload.amount"


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({}, ("5077125051", "dep_42")),
        ({"payment_id": '"5077125051"'}, ("5077125051", "dep_42")),
        ({"order_id": '"dep_7"'}, ("5077125051", "dep_7")),
    ],
)
def test_ids(changes, expected):
    update = parse(**changes)
    assert (update.payment_id, update.order_id) == expected


@pytest.mark.parametrize("changes", [{"order_id": "null"}, {"order_id": '""'}, {"payment_id": "true"}, {"payment_id": "{}"}])
def test_missing_ids(changes):
    assert reason_of(*signed(raw_body(**changes))) == "payload.malformed"


def create_invoice(fake_api, **overrides):
    arguments = dict(
        api_key="np-key",
        deposit_reference="dep_42",
        amount_cents=1234,
        pay_currency="USDT",
        ipn_callback_url="https://portal.example/webhooks/crypto",
        success_url="https://portal.example/deposits/dep_42",
        cancel_url="https://portal.example/deposits",
        api_base=fake_api.url,
    )
    arguments.update(overrides)
    return crypto.create_invoice(**arguments)


INVOICE_ANSWER = {
    "id": "4522625843",
    "order_id": "dep_42",
    "price_amount": "12.34",
    "invoice_url": "https://nowpayments.io/payment/?iid=4522625843",
}


@pytest.mark.parametrize(
    "coin, cents, ticker, price_text",
    [("USDT", 1234, "usdttrc20", "12.34"), ("BTC", 500, "btc", "5"), ("ETH", 1, "eth", "0.01"), ("BTC", 1010, "btc", "10.1")],
)
def test_create_invoice_request(fake_api, coin, cents, ticker, price_text):
    fake_api.answer(200, INVOICE_ANSWER)
    invoice = create_invoice(fake_api, pay_currency=coin, amount_cents=cents)
    assert invoice == crypto.Invoice(id="4522625843", url=INVOICE_ANSWER["invoice_url"])
    [request] = fake_api.requests
    assert (request.method, request.path) == ("POST", "/v1/invoice")
    assert request.header("x-api-key") == "np-key"
    assert request.header("Content-Type") == "application/json"
    assert f'"price_amount":{price_text},'.encode() in request.body
    assert json.loads(request.body, parse_float=Decimal) == {
        "price_amount": Decimal(price_text),
        "price_currency": "usd",
        "pay_currency": ticker,
        "order_id": "dep_42",
        "order_description": "1001sms.com balance deposit",
        "ipn_callback_url": "https://portal.example/webhooks/crypto",
        "success_url": "https://portal.example/deposits/dep_42",
        "cancel_url": "https://portal.example/deposits",
        "is_fixed_rate": True,
        "is_fee_paid_by_user": False,
    }


def test_create_invoice_numeric_id(fake_api):
    fake_api.answer(200, {**INVOICE_ANSWER, "id": 4522625843})
    assert create_invoice(fake_api).id == "4522625843"


@pytest.mark.parametrize(
    "status, answer, message",
    [
        (400, {"status": False, "code": "INVALID_REQUEST_PARAMS", "message": "price_amount is too small"}, "price_amount is too small"),
        (401, {"message": "Invalid api key"}, "Invalid api key"),
        (500, b"<html>oops</html>", "500"),
        (200, b"not json", "non-JSON"),
        (200, {"id": "1"}, "unexpected"),
        (200, [1, 2], "unexpected"),
    ],
)
def test_create_invoice_failures(fake_api, status, answer, message):
    fake_api.answer(status, answer)
    with pytest.raises(ProcessorError, match=message) as caught:
        create_invoice(fake_api)
    assert caught.value.http_status == (status if status != 200 else None)


def test_create_invoice_unreachable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    with pytest.raises(ProcessorError, match="unreachable") as caught:
        crypto.create_invoice(
            api_key="k",
            deposit_reference="dep_1",
            amount_cents=100,
            pay_currency="BTC",
            ipn_callback_url="u",
            success_url="u",
            cancel_url="u",
            api_base=f"http://127.0.0.1:{closed_port}",
            timeout=2,
        )
    assert caught.value.http_status is None


@pytest.mark.parametrize("overrides, error", [({"amount_cents": 12.34}, ValueError), ({"amount_cents": 0}, ValueError), ({"pay_currency": "LTC"}, KeyError)])
def test_create_invoice_refuses_bad_arguments_before_any_request(fake_api, overrides, error):
    with pytest.raises(error):
        create_invoice(fake_api, **overrides)
    assert fake_api.requests == []
