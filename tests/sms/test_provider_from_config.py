"""Which provider a config selects, and that both implement the interface."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from portal.numbers.sms import (
    Deliver,
    Never,
    Simulator,
    SmsActivateClient,
    SmsProvider,
    provider_from_config,
)

URL = "https://upstream.example/stubs/handler_api.php"


@pytest.mark.parametrize(
    "config, kind",
    [
        ({}, Simulator),
        ({"SMS_SIMULATOR": "wa=never"}, Simulator),
        ({"SMS_ACTIVATE_URL": URL}, Simulator),
        ({"SMS_ACTIVATE_KEY": "k"}, Simulator),
        ({"SMS_ACTIVATE_URL": URL, "SMS_ACTIVATE_KEY": "k"}, SmsActivateClient),
        ({"SMS_PROVIDER": "simulator", "SMS_ACTIVATE_URL": URL, "SMS_ACTIVATE_KEY": "k"},
         Simulator),
        ({"SMS_PROVIDER": "sms-activate", "SMS_ACTIVATE_URL": URL, "SMS_ACTIVATE_KEY": "k"},
         SmsActivateClient),
    ],
)
def test_provider_choice(config, kind):
    provider = provider_from_config(config)
    assert type(provider) is kind
    assert isinstance(provider, SmsProvider)


@pytest.mark.parametrize(
    "config",
    [
        {"SMS_PROVIDER": "sms-activate"},
        {"SMS_PROVIDER": "sms-activate", "SMS_ACTIVATE_URL": URL},
        {"SMS_PROVIDER": "twilio"},
        {"SMS_SIMULATOR": "wa=sometimes"},
        {"SMS_ACTIVATE_URL": URL, "SMS_ACTIVATE_KEY": "k", "SMS_TIMEOUT_SECONDS": "0"},
        {"SMS_ACTIVATE_URL": URL, "SMS_ACTIVATE_KEY": "k", "SMS_RETRIES": "-1"},
    ],
)
def test_bad_configs_fail_at_startup(config):
    with pytest.raises(ValueError):
        provider_from_config(config)


def test_simulator_settings_and_clock_are_applied():
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    config = {"SMS_SIMULATOR": "default=never;tg=deliver:5s"}
    provider = provider_from_config(config, now=lambda: at)
    assert provider.config.default == Never()
    assert provider.config.behaviour("tg") == Deliver(timedelta(seconds=5))
    assert provider.now() == at


def test_client_settings_are_applied():
    provider = provider_from_config({
        "SMS_ACTIVATE_URL": "http://127.0.0.1:9", "SMS_ACTIVATE_KEY": "k",
        "SMS_TIMEOUT_SECONDS": "1.5", "SMS_RETRIES": "0",
    })
    assert provider.api_key == "k"
    assert provider.transport.url == "http://127.0.0.1:9/stubs/handler_api.php"
    assert (provider.transport.timeout, provider.transport.retries) == (1.5, 0)
