"""The portal's settings: defaults, then environment variables, then ``create_app(config)``.

With no Stripe or crypto keys the portal runs its embedded demo processors; their webhook
secrets are derived from ``SECRET_KEY`` so every worker signs and verifies alike.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from portal.store.db import LOCK_TIMEOUT_SECONDS

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"

ENV_KEYS = (
    "DATABASE_URL", "SECRET_KEY", "SITE_DIR", "PUBLIC_URL",
    "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE",
    "CRYPTO_API_KEY", "CRYPTO_IPN_SECRET", "CRYPTO_API_BASE",
    "SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD", "SMTP_FROM",
    "SMS_PROVIDER", "SMS_SIMULATOR", "SMS_ACTIVATE_URL", "SMS_ACTIVATE_KEY",
    "SMS_TIMEOUT_SECONDS", "SMS_RETRIES", "SMS_PUSH_ALLOWED", "REDIS_URL", "QUEUE_FILE",
    "OUTBOX_CLAIM_SECONDS", "API_RATE_PER_SECOND", "API_RATE_FILE",
    "CONSENT_CONTROLLER_NAME", "CONSENT_CONTROLLER_ADDRESS", "CONSENT_CONTROLLER_PHONE",
)


def _instance_secret() -> str:
    """A secret key kept in ``instance/secret_key`` so all local workers share it."""
    path = INSTANCE / "secret_key"
    if not path.exists():
        INSTANCE.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"secret_key.{os.getpid()}")
        tmp.write_text(secrets.token_hex(32))
        try:  # link is atomic and refuses to overwrite: when workers race, the first key wins
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def _flag(value: str | None, default: bool) -> bool:
    return default if value is None else value.lower() in ("1", "true", "yes", "on")


def defaults() -> dict:
    return {
        "DATABASE_URL": f"sqlite:///{INSTANCE / 'portal.sqlite3'}",
        "SITE_DIR": str(ROOT / "build" / "site"),
        "PUBLIC_URL": "http://127.0.0.1:8000",
        "STRIPE_SECRET_KEY": "",
        "STRIPE_WEBHOOK_SECRET": "",
        "STRIPE_API_BASE": None,
        "CRYPTO_API_KEY": "",
        "CRYPTO_IPN_SECRET": "",
        "CRYPTO_API_BASE": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "portal_session",
        # A signed-in session ends this long after signing in (portal.accounts.sessions)
        "SESSION_MAX_SECONDS": 86_400,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 256 * 1024,
        "ARGON2": {"time_cost": 3, "memory_cost": 65536, "parallelism": 4},
        # Sign-in failures allowed within the window: per account, and per client address
        # across accounts (credential stuffing; a shared address shares the limit)
        # Seconds a statement waits for a lock before the request answers 503 (portal.store.db)
        "DATABASE_LOCK_TIMEOUT_SECONDS": LOCK_TIMEOUT_SECONDS,
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_MAX_FAILURES_PER_ADDRESS": 20,
        "LOGIN_WINDOW_SECONDS": 60,
        # Registrations (accounts opened, or refused as taken: each answer tells whether an
        # address has an account) per client address within the window
        "REGISTER_MAX_PER_ADDRESS": 10,
        "REGISTER_WINDOW_SECONDS": 3600,
        "STATEMENT_PAGE_SIZE": 25,
        "TRUST_PROXY": 0,
        "DEMO_SEED": False,
        # seed-demo makes every demo service's wait window this many seconds (0: the
        # catalog's own windows), to try a failed-SMS refund within a minute
        "DEMO_WAIT_SECONDS": 0,
        # Notification email (portal.support.notifications): none sent while SMTP_HOST is empty
        "SMTP_HOST": "",
        "SMTP_PORT": 25,
        "SMTP_USER": "",
        "SMTP_PASSWORD": "",
        "SMTP_FROM": "support@1001sms.com",
        "SMTP_STARTTLS": False,
        # SMS numbers (portal.numbers.sms.provider_from_config): the embedded simulator by default
        "SMS_PROVIDER": "",
        "SMS_SIMULATOR": "default=deliver:20s",
        "SMS_ACTIVATE_URL": "",
        "SMS_ACTIVATE_KEY": "",
        "SMS_TIMEOUT_SECONDS": 5,
        "SMS_RETRIES": 2,
        # Upstream pushes (POST /webhooks/sms/<provider>): the client addresses or networks
        # allowed to push, comma-separated (e.g. "203.0.113.0/24, 198.51.100.7"); empty: any
        "SMS_PUSH_ALLOWED": "",
        # The queue (portal.jobs.queue): Redis when REDIS_URL is set, else a SQLite file
        "REDIS_URL": "",
        "QUEUE_FILE": str(INSTANCE / "queue.sqlite3"),
        "QUEUE_IMMEDIATE": False,
        # How long a consumer may take to deliver one outbox row before another may take it
        # over (a consumer killed mid-delivery): well above an SMTP or webhook timeout
        "OUTBOX_CLAIM_SECONDS": 60,
        # The PII controller named on consent receipts (portal.consent.kantara); its e-mail
        # address is the Terms' support address
        "CONSENT_CONTROLLER_NAME": "1001sms.com",
        "CONSENT_CONTROLLER_ADDRESS": "",
        "CONSENT_CONTROLLER_PHONE": "",
        # The customer API: requests per second per key, across every worker and instance
        "API_RATE_PER_SECOND": 20,
        # Where that count is kept without Redis (portal.api.limits): empty for its default
        "API_RATE_FILE": "",
    }


def load(overrides: dict | None) -> dict:
    """The effective settings for one app."""
    config = defaults()
    for key in ENV_KEYS:
        if os.environ.get(key):
            config[key] = os.environ[key]
    config["TRUST_PROXY"] = int(os.environ.get("PORTAL_TRUST_PROXY", config["TRUST_PROXY"]))
    config["DEMO_SEED"] = _flag(os.environ.get("PORTAL_DEMO_SEED"), config["DEMO_SEED"])
    config["DEMO_WAIT_SECONDS"] = _seconds("PORTAL_DEMO_WAIT_SECONDS", config["DEMO_WAIT_SECONDS"])
    config["SESSION_MAX_SECONDS"] = _seconds("PORTAL_SESSION_MAX_SECONDS", config["SESSION_MAX_SECONDS"],
                                             least=60, most=30 * 86_400)
    config["SMTP_STARTTLS"] = _flag(os.environ.get("SMTP_STARTTLS"), config["SMTP_STARTTLS"])
    config.update(overrides or {})
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret()
    config["CARD_PROCESSOR"] = "stripe" if config["STRIPE_SECRET_KEY"] else "demo"
    config["CRYPTO_PROCESSOR"] = "nowpayments" if config["CRYPTO_API_KEY"] else "demo"
    # No real processor: the demo, where customers' webhooks may go to this machine (loopback)
    config["DEMO_MODE"] = config["CARD_PROCESSOR"] == "demo" and config["CRYPTO_PROCESSOR"] == "demo"
    for name, key, real in (
        ("stripe", "STRIPE_WEBHOOK_SECRET", config["CARD_PROCESSOR"] != "demo"),
        ("crypto", "CRYPTO_IPN_SECRET", config["CRYPTO_PROCESSOR"] != "demo"),
    ):
        if not config[key] and real:
            raise RuntimeError(f"{key} is required when the real {name} processor is configured")
        config[key] = config[key] or _derived(config["SECRET_KEY"], name)
    config.setdefault(
        "SESSION_COOKIE_SECURE",
        _flag(os.environ.get("PORTAL_SECURE_COOKIES"), config["PUBLIC_URL"].startswith("https:")),
    )
    return config


def _seconds(variable: str, default: int, least: int = 0, most: int = 86_400) -> int:
    """A whole number of seconds from the environment, refused clearly when it is not one."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or not least <= int(raw) <= most:
        raise RuntimeError(f"{variable} must be a whole number of seconds from {least} to {most}, not {raw!r}")
    return int(raw)


def _derived(secret_key: str, name: str) -> str:
    digest = hmac.new(secret_key.encode(), f"demo-webhook:{name}".encode(), hashlib.sha256)
    return "whsec_demo_" + digest.hexdigest()
