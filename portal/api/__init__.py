"""The customer API: the SMS-Activate handler protocol (``/stubs/handler_api.php``) that
customers' tools speak, served on the same domain rules as the web (``portal.numbers``,
``portal.money``); keys (``keys``), the protocol's words and tables (``protocol``), the
actions (``actions``) and the per-key rate limit (``limits``)."""
