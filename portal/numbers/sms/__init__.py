"""SMS providers: rent a number, read its SMS, cancel it or finish it.

``SmsProvider`` (in ``base``) is the interface the portal uses; two implementations:

- ``Simulator``, the default: stateless and deterministic (everything is in the
  activation id), configured per service by a compact string (``SMS_SIMULATOR``).
- ``SmsActivateClient``: the SMS-Activate handler protocol spoken by many upstreams.

Configuration keys read by ``provider_from_config``:

    SMS_PROVIDER         simulator | sms-activate; default: sms-activate when both
                         SMS_ACTIVATE_URL and SMS_ACTIVATE_KEY are set, else simulator
    SMS_SIMULATOR        e.g. "default=deliver:20s;wa=never;no-numbers=US/wa"
    SMS_ACTIVATE_URL     the upstream's root URL (or its full handler_api.php URL)
    SMS_ACTIVATE_KEY     the upstream API key
    SMS_TIMEOUT_SECONDS  per request, default 5
    SMS_RETRIES          extra attempts for transient failures, default 2
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Mapping

from .base import (
    Activation,
    Message,
    NoNumbers,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    SmsProvider,
    Status,
)
from .simulator import Simulator
from .simulator_config import Deliver, Never, SimulatorConfig
from .sms_activate import SmsActivateClient

__all__ = [
    "Activation", "Deliver", "Message", "Never", "NoNumbers", "ProviderError",
    "ProviderRejected", "ProviderUnavailable", "Simulator", "SimulatorConfig",
    "SmsActivateClient", "SmsProvider", "Status", "provider_from_config",
]


def provider_from_config(
    config: Mapping[str, Any], *, now: Callable[[], datetime] | None = None
) -> SmsProvider:
    """The provider the config asks for; ``now`` replaces the simulator's clock (tests)."""
    url, key = config.get("SMS_ACTIVATE_URL"), config.get("SMS_ACTIVATE_KEY")
    name = config.get("SMS_PROVIDER") or ("sms-activate" if url and key else "simulator")
    if name == "simulator":
        simulator_config = SimulatorConfig.parse(config.get("SMS_SIMULATOR") or "")
        return Simulator(simulator_config, now=now) if now else Simulator(simulator_config)
    if name == "sms-activate":
        if not (url and key):
            raise ValueError(
                "SMS_PROVIDER=sms-activate needs SMS_ACTIVATE_URL and SMS_ACTIVATE_KEY"
            )
        return SmsActivateClient(
            url, key,
            timeout=float(config.get("SMS_TIMEOUT_SECONDS", 5)),
            retries=int(config.get("SMS_RETRIES", 2)),
        )
    raise ValueError(f"SMS_PROVIDER must be 'simulator' or 'sms-activate', not {name!r}")
