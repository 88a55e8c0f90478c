"""Money: the ledger (the only code that moves money), deposits, card refunds, disputes, and the processors' events and reconciliation."""
