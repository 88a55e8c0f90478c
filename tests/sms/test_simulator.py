"""Tables of cases for the stateless simulator: delivery, cancel, finish, ids, numbers."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from portal.numbers.sms import NoNumbers, ProviderRejected, Simulator, SimulatorConfig
from portal.numbers.sms.countries import COUNTRIES
from portal.numbers.sms.simulator import SimulatedRental, phone_for

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
CONFIG = SimulatorConfig.parse(
    "default=deliver:20s;wa=never;go=deliver:25m;no-numbers=US/wa,DE/*,*/ds"
)


class Clock:
    def __init__(self, at: datetime = T0) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def rent_then_wait(service: str, elapsed: timedelta, country: str = "GB"):
    clock = Clock()
    simulator = Simulator(CONFIG, now=clock)
    activation = simulator.rent(country=country, service=service)
    clock.at = T0 + elapsed
    return simulator, activation


@pytest.mark.parametrize(
    "service, elapsed, state",
    [
        ("tg", timedelta(0), "waiting"),
        ("tg", timedelta(seconds=19, milliseconds=999), "waiting"),
        ("tg", timedelta(seconds=20), "received"),  # at the delay exactly
        ("tg", timedelta(hours=2), "received"),
        ("wa", timedelta(days=30), "waiting"),  # never
        ("go", timedelta(minutes=20), "waiting"),  # late: still nothing when the window ends
        ("go", timedelta(minutes=25), "received"),
        ("tg", -timedelta(seconds=1), "waiting"),  # another worker's clock runs behind
    ],
)
def test_status_follows_the_clock(service, elapsed, state):
    simulator, activation = rent_then_wait(service, elapsed)
    assert simulator.status(activation.activation_id).state == state


@pytest.mark.parametrize(
    "service, elapsed, state",
    [
        ("tg", timedelta(seconds=10), "cancelled"),
        ("tg", timedelta(seconds=20), "received"),  # the code arrived meanwhile: no cancel
        ("tg", timedelta(minutes=30), "received"),
        ("wa", timedelta(minutes=30), "cancelled"),
        ("go", timedelta(minutes=20), "cancelled"),  # late delivery, cancelled in time
    ],
)
def test_cancel_before_delivery_cancels_after_it_reports_the_message(service, elapsed, state):
    simulator, activation = rent_then_wait(service, elapsed)
    status = simulator.cancel(activation.activation_id)
    assert status.state == state
    assert bool(status.messages) == (state == "received")


@pytest.mark.parametrize("elapsed, accepted", [(timedelta(seconds=19), False), (timedelta(seconds=20), True)])
def test_another_sms_is_asked_for_only_after_one_came_and_none_follows(elapsed, accepted):
    simulator, activation = rent_then_wait("tg", elapsed)
    if not accepted:
        with pytest.raises(ProviderRejected):
            simulator.retry(activation.activation_id)
        return
    assert simulator.retry(activation.activation_id) is None
    assert len(simulator.status(activation.activation_id).messages) == 1  # nothing remembered


def test_received_message_is_the_services_full_text_with_its_code_and_time():
    clock = Clock()
    simulator = Simulator(SimulatorConfig.parse("wa=deliver:5s"), now=clock)
    activation = simulator.rent(country="FR", service="wa")
    clock.at = T0 + timedelta(seconds=5)
    (message,) = simulator.status(activation.activation_id).messages
    assert re.fullmatch(r"\d{6}", message.code)
    assert message.text == (
        f"Your WhatsApp code is {message.code[:3]}-{message.code[3:]}."
        " Don't share this code with others"
    )
    assert message.received_at == T0 + timedelta(seconds=5)


@pytest.mark.parametrize(
    "service, pattern",
    [
        ("tg", r"Telegram code: (\d{5})\n.*"),
        ("go", r"G-(\d{6}) is your Google verification code\."),
        ("fb", r"FB-(\d{5}) is your Facebook confirmation code"),
        ("mm", r"Use (\d{4}) as Microsoft account security code"),
        ("xyz", r"Your verification code is (\d{6})\. Do not share it with anyone\."),
    ],
)
def test_each_service_has_its_own_text(service, pattern):
    simulator, activation = rent_then_wait(service, timedelta(hours=1))
    (message,) = simulator.status(activation.activation_id).messages
    match = re.fullmatch(pattern, message.text, re.DOTALL)
    assert match and match[1] == message.code


def test_another_process_sees_the_same_activation():
    simulator, activation = rent_then_wait("tg", timedelta(minutes=1))
    other = Simulator(SimulatorConfig.parse("default=never"), now=Clock(T0 + timedelta(minutes=1)))
    assert other.status(activation.activation_id) == simulator.status(activation.activation_id)
    rental = SimulatedRental.parse(activation.activation_id)
    assert phone_for(rental, activation.activation_id) == activation.phone
    assert rental.format() == activation.activation_id


def test_activation_id_encodes_country_service_time_and_behaviour():
    clock = Clock(T0 + timedelta(microseconds=1500))  # sub-millisecond part is dropped
    simulator = Simulator(CONFIG, now=clock, nonce=lambda: "9f3a61c2")
    assert simulator.rent(country="GB", service="go").activation_id == (
        f"sim.GB.go.{int(T0.timestamp() * 1000) + 1}.d1500000.9f3a61c2"
    )
    assert simulator.rent(country="GB", service="wa").activation_id.split(".")[4] == "n"


@pytest.mark.parametrize("iso", sorted(COUNTRIES))
def test_phone_numbers_are_e164_of_the_country(iso):
    country = COUNTRIES[iso]
    simulator = Simulator(SimulatorConfig(), now=Clock())
    phones = {simulator.rent(country=iso, service="tg").phone for _ in range(20)}
    assert len(phones) > 15  # distinct rentals, distinct numbers
    for phone in phones:
        assert re.fullmatch(r"\+[1-9]\d{7,14}", phone), phone
        assert phone.startswith("+" + country.calling_code)
        national = phone[1 + len(country.calling_code):]
        prefix = next((p for p in country.mobile_prefixes if national.startswith(p)), None)
        assert prefix is not None, phone
        assert len(national) == len(prefix) + country.subscriber_digits, phone


@pytest.mark.parametrize(
    "country, service, available",
    [
        ("US", "wa", False),
        ("US", "tg", True),
        ("DE", "go", False),
        ("DE", "tg", False),
        ("FR", "ds", False),
        ("FR", "wa", True),
    ],
)
def test_no_numbers_for_configured_pairs(country, service, available):
    simulator = Simulator(CONFIG, now=Clock())
    if available:
        assert simulator.rent(country=country, service=service).phone
    else:
        with pytest.raises(NoNumbers) as raised:
            simulator.rent(country=country, service=service)
        assert raised.value.reason == "provider.no_numbers"


@pytest.mark.parametrize(
    "country, service, reason",
    [
        ("XX", "tg", "provider.bad_country"),
        ("gb", "tg", "provider.bad_country"),
        ("GB", "WA", "provider.bad_service"),
        ("GB", "w.a", "provider.bad_service"),
        ("GB", "", "provider.bad_service"),
    ],
)
def test_rent_rejects_unknown_countries_and_services(country, service, reason):
    with pytest.raises(ProviderRejected) as raised:
        Simulator(CONFIG, now=Clock()).rent(country=country, service=service)
    assert raised.value.reason == reason


MALFORMED_IDS = [
    "",
    "12345",
    "sim",
    "sim.GB.tg.1767268800000.d20000",
    "sim.GB.tg.1767268800000.d20000.9f3a61c2.extra",
    "sim.XX.tg.1767268800000.d20000.9f3a61c2",
    "sim.gb.tg.1767268800000.d20000.9f3a61c2",
    "sim.GB.TG.1767268800000.d20000.9f3a61c2",
    "sim.GB.tg.soon.d20000.9f3a61c2",
    "sim.GB.tg.1767268800000.x20000.9f3a61c2",
    "sim.GB.tg.1767268800000.d.9f3a61c2",
    "sim.GB.tg.1767268800000.d20000.9F3A61C2",
    "sim.GB.tg.1767268800000.d9999999999.9f3a61c2",  # beyond the longest delay
    "sim.GB.tg.999999999999999.d20000.9f3a61c2",  # past year 9999
    " sim.GB.tg.1767268800000.d20000.9f3a61c2",
    "sim.GB.tg.١٧٦٧٢٦٨٨٠٠٠٠٠.d20000.9f3a61c2",
    "sim.GB.tg.1767268800000.d２0000.9f3a61c2",
]


@pytest.mark.parametrize("activation_id", MALFORMED_IDS)
@pytest.mark.parametrize("operation", ["status", "cancel", "finish"])
def test_malformed_ids_are_rejected(activation_id, operation):
    with pytest.raises(ProviderRejected) as raised:
        getattr(Simulator(CONFIG, now=Clock()), operation)(activation_id)
    assert raised.value.reason == "provider.no_activation"


@pytest.mark.parametrize(
    "service, elapsed, finishes",
    [
        ("tg", timedelta(seconds=20), True),
        ("tg", timedelta(seconds=19), False),
        ("wa", timedelta(days=1), False),
    ],
)
def test_finish_only_after_delivery(service, elapsed, finishes):
    simulator, activation = rent_then_wait(service, elapsed)
    if finishes:
        assert simulator.finish(activation.activation_id) is None
    else:
        with pytest.raises(ProviderRejected) as raised:
            simulator.finish(activation.activation_id)
        assert raised.value.reason == "provider.bad_status"


def test_a_naive_clock_is_refused():
    with pytest.raises(ValueError):
        Simulator(CONFIG, now=lambda: datetime(2026, 1, 1)).rent(country="GB", service="tg")
