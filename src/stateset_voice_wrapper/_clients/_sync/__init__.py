"""The typed clients, sync: generated from ``_async/`` by ``scripts/unasync``; do not edit."""
