"""Typed keys of what the app and each request carry (shared by the app and the control API)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ._core import SandboxCore

CORE = web.AppKey("core", SandboxCore)
OPERATIONS = web.AppKey("operations", frozenset[str])
"""Route names that are contract operations (their operation ids)."""
REQUEST_ID = web.RequestKey("request_id", str)
HEADERS = web.RequestKey("headers", dict[str, str])
NOTES = web.RequestKey("notes", dict[str, Any])
"""What the pipeline learnt about a request (operation, fault, replay) for the request log."""
