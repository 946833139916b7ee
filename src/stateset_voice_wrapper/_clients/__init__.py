"""The typed clients: settings, argument validation, pagination, and the clients themselves.

The async source is in ``_async/``; ``_sync/`` is generated from it. Imports ``_shared``,
``_reliability``, ``_storage`` and the generated packages; nothing below imports this.
"""
