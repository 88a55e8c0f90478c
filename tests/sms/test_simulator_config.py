"""Tables of valid and invalid simulator config strings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.numbers.sms import Deliver, Never, SimulatorConfig

TWENTY_SECONDS = Deliver(timedelta(seconds=20))


@pytest.mark.parametrize(
    "text, default, services, no_numbers",
    [
        ("", TWENTY_SECONDS, {}, set()),
        ("default=never", Never(), {}, set()),
        (
            "default=deliver:20s;wa=never;tg=deliver:5s",
            TWENTY_SECONDS,
            {"wa": Never(), "tg": Deliver(timedelta(seconds=5))},
            set(),
        ),
        (" wa = never ; ;", TWENTY_SECONDS, {"wa": Never()}, set()),
        ("tg=deliver:1m30s", TWENTY_SECONDS, {"tg": Deliver(timedelta(seconds=90))}, set()),
        ("tg=deliver:1h2m3s4ms", TWENTY_SECONDS,
         {"tg": Deliver(timedelta(hours=1, minutes=2, seconds=3, milliseconds=4))}, set()),
        ("tg=deliver:500ms", TWENTY_SECONDS, {"tg": Deliver(timedelta(milliseconds=500))}, set()),
        ("tg=deliver:0s", TWENTY_SECONDS, {"tg": Deliver(timedelta(0))}, set()),
        ("go=deliver:168h", TWENTY_SECONDS, {"go": Deliver(timedelta(days=7))}, set()),
        ("no-numbers=US/wa, DE/*,*/tg", TWENTY_SECONDS, {},
         {("US", "wa"), ("DE", "*"), ("*", "tg")}),
    ],
)
def test_valid_config_strings(text, default, services, no_numbers):
    config = SimulatorConfig.parse(text)
    assert config == SimulatorConfig(default, services, frozenset(no_numbers))
    assert SimulatorConfig.parse(str(config)) == config


@pytest.mark.parametrize(
    "text",
    [
        "wa",
        "wa=",
        "=never",
        "wa=sometimes",
        "wa=deliver",
        "wa=deliver:",
        "wa=deliver:20",
        "wa=deliver:20x",
        "wa=deliver:s",
        "wa=deliver:-5s",
        "wa=deliver:1.5s",
        "wa=deliver:2d",
        "wa=deliver:169h",  # longer than a week
        "wa=deliver: 20s",
        "wa=deliver:٢٠s",
        "WA=never",
        "w.a=never",
        "default=late",
        "wa=never;wa=deliver:5s",
        "no-numbers=US",
        "no-numbers=usa/wa",
        "no-numbers=US/WA",
        "no-numbers=US/wa/tg",
    ],
)
def test_invalid_config_strings_name_the_problem(text):
    with pytest.raises(ValueError):
        SimulatorConfig.parse(text)


def test_behaviour_falls_back_to_the_default():
    config = SimulatorConfig.parse("default=never;tg=deliver:5s")
    assert config.behaviour("tg") == Deliver(timedelta(seconds=5))
    assert config.behaviour("wa") == Never()
