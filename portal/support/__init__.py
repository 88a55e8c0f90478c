"""Support: tickets, staff actions on accounts, the audit log and notifications."""
