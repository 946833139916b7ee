"""Storage: the lease state machine, its SQLite and Redis stores, the idempotency ledger and
the webhook dedup stores. Imports only ``_shared``; no httpx."""
