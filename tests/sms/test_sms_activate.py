"""The SMS-Activate client against the local fake upstream: every answer, every failure.

Each test asserts the exact query parameters sent and how many attempts were made.
"""

from __future__ import annotations

import socket

import pytest

from portal.numbers.sms import (
    Activation,
    Message,
    NoNumbers,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    SmsActivateClient,
    Status,
)
from tests.sms.conftest import BACKOFF, TIMEOUT
from tests.sms.fake_upstream import Reply

KEY = "test-key"
SLOW = TIMEOUT + 0.3
BACKOFFS = [BACKOFF, 2 * BACKOFF]  # retries=2: three attempts


def outcome(call):
    """What a call returned, or the reason code of the provider error it raised."""
    try:
        return call()
    except ProviderError as error:
        return error.reason


def actions(upstream) -> list[str]:
    return [call["action"] for call in upstream.calls()]


def rented(client, upstream) -> str:
    activation = client.rent(country="GB", service="tg")
    upstream.requests.clear()
    return activation.activation_id


# --- getNumber -------------------------------------------------------------------------


def test_rent_sends_the_upstream_country_id_and_the_service_code(client, upstream):
    activation = client.rent(country="DE", service="wa")
    assert upstream.calls() == [
        {"api_key": KEY, "action": "getNumber", "service": "wa", "country": "43"}
    ]
    assert activation == Activation("70000001", "+447700900001")


@pytest.mark.parametrize(
    "iso, upstream_id",
    [("US", "187"), ("GB", "16"), ("FR", "78"), ("IN", "22"), ("BR", "73"), ("UA", "1")],
)
def test_country_ids(client, upstream, iso, upstream_id):
    client.rent(country=iso, service="go")
    assert upstream.calls("getNumber")[0]["country"] == upstream_id


def test_rent_of_a_country_without_upstream_id_sends_nothing(client, upstream):
    with pytest.raises(ProviderRejected) as raised:
        client.rent(country="AQ", service="wa")
    assert raised.value.reason == "provider.bad_country"
    assert upstream.calls() == []


@pytest.mark.parametrize(
    "reply, error, reason",
    [
        (Reply("NO_NUMBERS"), NoNumbers, "provider.no_numbers"),
        (Reply("NO_BALANCE"), ProviderRejected, "provider.no_balance"),
        (Reply("BAD_KEY"), ProviderRejected, "provider.bad_key"),
        (Reply("BAD_KEY", status=401), ProviderRejected, "provider.bad_key"),
        (Reply("BAD_SERVICE"), ProviderRejected, "provider.bad_service"),
        (Reply("BAD_ACTION"), ProviderRejected, "provider.bad_action"),
        (Reply("BANNED:'2026-01-01 10-00-00'"), ProviderRejected, "provider.banned"),
        (Reply("<html>502 Bad Gateway</html>"), ProviderUnavailable, "provider.unavailable"),
        (Reply(""), ProviderUnavailable, "provider.unavailable"),
        (Reply("not found", status=404), ProviderUnavailable, "provider.unavailable"),
        (Reply("ACCESS_NUMBER:123"), ProviderUnavailable, "provider.unavailable"),
        (Reply("ACCESS_NUMBER::447700900123"), ProviderUnavailable, "provider.unavailable"),
        (Reply("ACCESS_NUMBER:123:phone"), ProviderUnavailable, "provider.unavailable"),
        (Reply("ACCESS_NUMBER:123:٤٤٧٧٠٠٩٠٠١٢٣"), ProviderUnavailable, "provider.unavailable"),
    ],
)
def test_rent_answers(client, upstream, sleeps, reply, error, reason):
    upstream.script("getNumber", reply)
    with pytest.raises(error) as raised:
        client.rent(country="GB", service="wa")
    assert raised.value.reason == reason
    assert len(upstream.calls("getNumber")) == 1
    assert sleeps == []


@pytest.mark.parametrize(
    "reply",
    [
        Reply("", status=500),
        Reply("", status=503),
        Reply("ERROR_SQL"),
        Reply("ACCESS_NUMBER:1:447700900001", delay=SLOW),
    ],
    ids=["500", "503", "ERROR_SQL", "timeout"],
)
def test_rent_is_never_retried_once_the_upstream_may_have_rented(client, upstream, sleeps, reply):
    upstream.script("getNumber", reply, reply, reply)
    with pytest.raises(ProviderUnavailable):
        client.rent(country="GB", service="wa")
    assert len(upstream.calls("getNumber")) == 1
    assert sleeps == []


def test_rent_is_retried_when_the_request_never_left(sleeps):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = SmsActivateClient(f"http://127.0.0.1:{port}", "secret-key", timeout=TIMEOUT,
                               retries=2, backoff=BACKOFF, sleep=sleeps.append)
    with pytest.raises(ProviderUnavailable) as raised:
        client.rent(country="GB", service="wa")
    assert sleeps == BACKOFFS
    assert "secret-key" not in str(raised.value)
    assert "3 of 3 attempts" in str(raised.value)


# --- getStatus and getFullSms -----------------------------------------------------------


def test_status_waits_then_reports_the_full_sms(client, upstream):
    activation_id = rented(client, upstream)
    assert client.status(activation_id) == Status("waiting")
    text = "Telegram code: 12345\n\nDo not give this code to anyone"
    upstream.deliver(activation_id, "12345", text)
    assert client.status(activation_id) == Status("received", (Message(text, "12345"),))
    assert upstream.calls() == [
        {"api_key": KEY, "action": "getStatus", "id": activation_id},
        {"api_key": KEY, "action": "getStatus", "id": activation_id},
        {"api_key": KEY, "action": "getFullSms", "id": activation_id},
    ]


@pytest.mark.parametrize(
    "answer, expected",
    [
        ("STATUS_WAIT_CODE", Status("waiting")),
        ("STATUS_WAIT_RESEND", Status("waiting")),
        ("STATUS_CANCEL", Status("cancelled")),
        ("STATUS_OK:123456", Status("received", (Message("Your code: 12:34 ok", "123456"),))),
        ("STATUS_WAIT_RETRY:111222",
         Status("received", (Message("Your code: 12:34 ok", "111222"),))),
        ("NO_ACTIVATION", "provider.no_activation"),
        ("WRONG_ACTIVATION_ID", "provider.no_activation"),
        ("BAD_KEY", "provider.bad_key"),
        ("BAD_ACTION", "provider.bad_action"),
        ("STATUS_OK", "provider.unavailable"),
        ("STATUS_OK:", "provider.unavailable"),
        ("STATUS_WAIT_CODE:7", "provider.unavailable"),
        ("Internal error", "provider.unavailable"),
    ],
)
def test_status_answers(client, upstream, answer, expected):
    upstream.script("getStatus", answer)
    upstream.script("getFullSms", "FULL_SMS:Your code: 12:34 ok")
    assert outcome(lambda: client.status("42")) == expected
    assert len(upstream.calls("getStatus")) == 1


@pytest.mark.parametrize(
    "full_sms_answer",
    [
        Reply("BAD_ACTION"),
        Reply("STATUS_WAIT_CODE"),
        Reply("FULL_SMS:"),
        Reply("nonsense", status=404),
    ],
)
def test_without_a_full_text_the_message_is_the_code(client, upstream, full_sms_answer):
    upstream.script("getStatus", "STATUS_OK:5555")
    upstream.script("getFullSms", full_sms_answer)
    assert client.status("42") == Status("received", (Message("5555", "5555"),))


def test_full_text_can_be_switched_off(upstream):
    client = SmsActivateClient(upstream.url, KEY, timeout=TIMEOUT, full_sms=False)
    upstream.script("getStatus", "STATUS_OK:5555")
    assert client.status("42") == Status("received", (Message("5555", "5555"),))
    assert actions(upstream) == ["getStatus"]


def test_a_lost_full_text_is_a_failed_poll_not_a_shorter_message(client, upstream):
    upstream.script("getStatus", "STATUS_OK:5555")
    upstream.script("getFullSms", *[Reply("", status=500)] * 3)
    with pytest.raises(ProviderUnavailable):
        client.status("42")
    assert actions(upstream) == ["getStatus"] + ["getFullSms"] * 3


TRANSIENT = {
    "500": Reply("", status=500),
    "502": Reply("<html>bad gateway</html>", status=502),
    "429": Reply("", status=429),
    "ERROR_SQL": Reply("ERROR_SQL"),
    "timeout": Reply("STATUS_OK:1", delay=SLOW),
}


@pytest.mark.parametrize("failure", TRANSIENT.values(), ids=TRANSIENT.keys())
def test_status_retries_transient_failures_with_backoff(client, upstream, sleeps, failure):
    upstream.script("getStatus", failure, failure, "STATUS_WAIT_CODE")
    assert client.status("42") == Status("waiting")
    assert len(upstream.calls("getStatus")) == 3
    assert sleeps == BACKOFFS


@pytest.mark.parametrize("failure", TRANSIENT.values(), ids=TRANSIENT.keys())
def test_status_gives_up_after_the_last_retry(client, upstream, sleeps, failure):
    upstream.script("getStatus", failure, failure, failure, "STATUS_WAIT_CODE")
    with pytest.raises(ProviderUnavailable) as raised:
        client.status("42")
    assert len(upstream.calls("getStatus")) == 3
    assert sleeps == BACKOFFS
    assert KEY not in str(raised.value)


def test_refusals_are_not_retried(client, upstream, sleeps):
    upstream.script("getStatus", Reply("BAD_KEY", status=401))
    with pytest.raises(ProviderRejected):
        client.status("42")
    assert len(upstream.calls("getStatus")) == 1
    assert sleeps == []


def test_wrong_key_is_rejected_by_the_upstream(upstream):
    client = SmsActivateClient(upstream.url, "wrong", timeout=TIMEOUT)
    with pytest.raises(ProviderRejected) as raised:
        client.rent(country="GB", service="tg")
    assert raised.value.reason == "provider.bad_key"


# --- setStatus: cancel and finish -------------------------------------------------------


def test_cancel_a_waiting_number(client, upstream):
    activation_id = rented(client, upstream)
    assert client.cancel(activation_id) == Status("cancelled")
    assert upstream.calls() == [
        {"api_key": KEY, "action": "getStatus", "id": activation_id},
        {"api_key": KEY, "action": "setStatus", "status": "8", "id": activation_id},
    ]
    assert upstream.activations[activation_id].state == "cancelled"


def test_cancel_after_a_code_arrived_reports_it_and_cancels_nothing(client, upstream):
    activation_id = rented(client, upstream)
    upstream.deliver(activation_id, "4321", "Your code is 4321")
    expected = Status("received", (Message("Your code is 4321", "4321"),))
    assert client.cancel(activation_id) == expected
    assert actions(upstream) == ["getStatus", "getFullSms"]
    assert upstream.activations[activation_id].state == "received"


def test_cancel_refused_because_the_code_arrived_meanwhile_reports_it(client, upstream):
    upstream.script("getStatus", "STATUS_WAIT_CODE", "STATUS_OK:4321")
    upstream.script("setStatus", "BAD_STATUS")
    upstream.script("getFullSms", "FULL_SMS:Your code is 4321")
    assert client.cancel("42") == Status("received", (Message("Your code is 4321", "4321"),))
    assert actions(upstream) == ["getStatus", "setStatus", "getStatus", "getFullSms"]


def test_cancel_whose_answer_was_lost_is_retried_and_reads_cancelled(client, upstream, sleeps):
    activation_id = rented(client, upstream)
    upstream.script("setStatus", Reply("ACCESS_CANCEL", delay=SLOW))
    assert client.cancel(activation_id) == Status("cancelled")
    assert actions(upstream) == ["getStatus", "setStatus", "setStatus"]
    assert sleeps == [BACKOFF]


def test_cancel_refused_then_found_cancelled(client, upstream):
    upstream.script("getStatus", "STATUS_WAIT_CODE", "STATUS_CANCEL")
    upstream.script("setStatus", "BAD_STATUS")
    assert client.cancel("42") == Status("cancelled")


def test_cancel_of_a_cancelled_number_asks_nothing_more(client, upstream):
    upstream.script("getStatus", "STATUS_CANCEL")
    assert client.cancel("42") == Status("cancelled")
    assert actions(upstream) == ["getStatus"]


@pytest.mark.parametrize(
    "answer, reason",
    [
        ("EARLY_CANCEL_DENIED", "provider.early_cancel_denied"),
        ("NO_ACTIVATION", "provider.no_activation"),
        ("BAD_STATUS", "provider.bad_status"),
        ("ACCESS_READY", "provider.unavailable"),
    ],
)
def test_cancel_refused_while_still_waiting_raises_the_reason(client, upstream, answer, reason):
    activation_id = rented(client, upstream)
    upstream.script("setStatus", answer)
    assert outcome(lambda: client.cancel(activation_id)) == reason
    assert actions(upstream) == ["getStatus", "setStatus", "getStatus"]


def test_finish_a_received_number(client, upstream):
    activation_id = rented(client, upstream)
    upstream.deliver(activation_id, "777")
    assert client.finish(activation_id) is None
    assert upstream.calls() == [
        {"api_key": KEY, "action": "setStatus", "status": "6", "id": activation_id}
    ]
    assert upstream.activations[activation_id].state == "finished"


def test_finish_a_waiting_number_is_refused(client, upstream):
    activation_id = rented(client, upstream)
    with pytest.raises(ProviderRejected) as raised:
        client.finish(activation_id)
    assert raised.value.reason == "provider.bad_status"


def test_another_sms_is_asked_with_set_status_3_and_arrives_as_the_first(client, upstream):
    activation_id = rented(client, upstream)
    upstream.deliver(activation_id, "777")
    assert client.retry(activation_id) is None
    assert upstream.calls("setStatus") == [
        {"api_key": KEY, "action": "setStatus", "status": "3", "id": activation_id}
    ]
    assert [m.code for m in client.status(activation_id).messages] == ["777"]  # STATUS_WAIT_RETRY:777
    upstream.deliver(activation_id, "888")
    assert [m.code for m in client.status(activation_id).messages] == ["888"]


def test_another_sms_on_a_waiting_number_is_refused(client, upstream):
    activation_id = rented(client, upstream)
    with pytest.raises(ProviderRejected) as raised:
        client.retry(activation_id)
    assert raised.value.reason == "provider.bad_status"


# --- the URL ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/", "/stubs/handler_api.php"])
def test_base_url_or_full_handler_url(upstream, suffix):
    client = SmsActivateClient(upstream.url + suffix, KEY, timeout=TIMEOUT)
    upstream.script("getStatus", "STATUS_WAIT_CODE")
    assert client.status("42").state == "waiting"
    assert upstream.calls("getStatus") == [{"api_key": KEY, "action": "getStatus", "id": "42"}]
