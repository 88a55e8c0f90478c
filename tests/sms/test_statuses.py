"""Many activations in one call (``SmsProvider.statuses``): the SMS-Activate client reads
getActiveActivations once, in every shape upstreams answer it; without it, it asks per
activation (at most eight at a time); the simulator computes them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from portal.numbers.sms import Message, ProviderUnavailable, Simulator, SimulatorConfig, Status


def active(*items) -> str:
    return json.dumps({"status": "success", "activeActivations": list(items)})


WAITING = Status("waiting")
# (getActiveActivations' answer, what statuses(["11", "12"]) gives)
ANSWERS = [
    ("nothing active (JSON)", json.dumps({"status": "error", "error": "NO_ACTIVATIONS"}), {}),
    ("nothing active (text)", "NO_ACTIVATIONS", {}),
    ("waiting, smsCode null", active({"activationId": "11", "smsCode": None, "smsText": None}),
     {"11": WAITING}),
    ("numeric id", active({"activationId": 11, "smsCode": None}), {"11": WAITING}),
    ("one code as a string", active({"activationId": "11", "smsCode": "4711", "smsText": "Code 4711"}),
     {"11": Status("received", (Message("Code 4711", "4711"),))}),
    ("codes as a list, texts as a JSON string",
     active({"activationId": "12", "smsCode": ["1", "2"], "smsText": '["first 1", "second 2"]'}),
     {"12": Status("received", (Message("first 1", "1"), Message("second 2", "2")))}),
    ("a code without its text", active({"activationId": "11", "smsCode": ["9"], "smsText": None}),
     {"11": Status("received", (Message("9", "9"),))}),
    ("others' and malformed entries ignored",
     active({"activationId": "99", "smsCode": "1"}, {"activationId": "bad id!"}, "junk",
            {"activationId": "12", "smsCode": ""}),
     {"12": WAITING}),
]


@pytest.mark.parametrize("answer, expected", [a[1:] for a in ANSWERS], ids=[a[0] for a in ANSWERS])
def test_one_call_reads_every_shape_of_the_answer(client, upstream, answer, expected):
    upstream.script("getActiveActivations", answer)
    assert client.statuses(["11", "12"]) == expected
    assert [c["action"] for c in upstream.calls()] == ["getActiveActivations"]


@pytest.mark.parametrize("answer", ["BAD_KEY", "{not json", json.dumps([1, 2]),
                                    json.dumps({"status": "success"})])
def test_an_unusable_answer_is_an_error_not_silence(client, upstream, answer):
    upstream.script("getActiveActivations", answer)
    with pytest.raises(Exception) as raised:
        client.statuses(["11"])
    assert raised.type.__name__ in ("ProviderRejected", "ProviderUnavailable")


def test_the_model_lists_every_sms_of_every_open_activation(client, upstream):
    first = client.rent(country="GB", service="wa").activation_id
    second = client.rent(country="GB", service="tg").activation_id
    upstream.deliver(first, "111", "Code 111")
    upstream.deliver(first, "222", "Code 222")
    statuses = client.statuses([first, second])
    assert statuses[first].messages == (Message("Code 111", "111"), Message("Code 222", "222"))
    assert statuses[second] == WAITING


def test_without_the_batch_action_it_asks_per_activation_from_then_on(client, upstream):
    upstream.batch = False
    ids = [client.rent(country="GB", service="wa").activation_id for _ in range(10)]
    upstream.deliver(ids[3], "555")
    statuses = client.statuses(ids)
    assert statuses[ids[3]].state == "received" and statuses[ids[0]] == WAITING
    assert len(upstream.calls("getActiveActivations")) == 1
    assert len(upstream.calls("getStatus")) == 10
    client.statuses(ids)
    assert len(upstream.calls("getActiveActivations")) == 1  # not asked again


def test_per_activation_failures_leave_those_out_and_all_failing_raises(client, upstream):
    upstream.batch = False
    ids = [client.rent(country="GB", service="wa").activation_id for _ in range(2)]
    assert set(client.statuses([*ids, "424242"])) == set(ids)  # the upstream knows no 424242
    upstream.down = True
    with pytest.raises(ProviderUnavailable):
        client.statuses(ids)


def test_the_simulator_computes_any_number_in_one_call():
    t0 = datetime(2026, 12, 1, tzinfo=timezone.utc)
    clock = [t0]
    simulator = Simulator(SimulatorConfig.parse("default=deliver:30s;wa=never"), now=lambda: clock[0])
    ids = [simulator.rent(country="US", service=service).activation_id for service in ("tg", "wa")]
    clock[0] = t0 + timedelta(seconds=31)
    statuses = simulator.statuses(ids)
    assert statuses[ids[0]].state == "received" and statuses[ids[1]] == WAITING
