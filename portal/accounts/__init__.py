"""Customer accounts: registration and passwords, sign-in attempts and limits, server-side sessions."""
