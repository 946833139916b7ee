"""The typed clients, async source: ``scripts/unasync`` generates ``_sync/`` from these modules."""
