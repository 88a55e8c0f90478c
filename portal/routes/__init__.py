"""One blueprint per area of the portal, each in its own module; ``BLUEPRINTS`` names the
modules the app factory registers."""

BLUEPRINTS = ("auth", "dashboard", "deposits", "webhooks", "account", "demo", "policy", "site",
              "rentals", "prices", "tickets", "staff", "staff_disputes", "staff_held",
              "staff_outbox", "staff_notices", "api", "api_docs", "delivery", "consents", "withdrawal",
              "staff_withdrawals")
