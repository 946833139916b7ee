"""The typed clients' settings: credentials, base URL and reliability configuration.

Nothing here does I/O; the sync and async clients share it.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Any

import attrs
import httpx

from .._reliability.options import ReliabilityConfig
from .._shared.defaults import DEFAULT_BASE_URL, ENV_BASE_URL, env_names
from .._shared.errors import ConfigurationError

__all__ = ["build_config", "resolve_base_url", "resolve_key"]


def resolve_key(value: str | None, *, env: str, what: str) -> str:
    """The explicit key, else the environment variable ``env`` (or its legacy names)."""
    key = value
    if key is None:
        key = next((os.environ[n] for n in env_names(env) if os.environ.get(n)), None)
    if not key or not key.strip():
        raise ConfigurationError(
            f"no {what}: pass it to the client or set the {env} environment variable"
        )
    return key.strip()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_base_url(value: str | None) -> str:
    """The explicit base URL, else STATESET_VOICE_BASE_URL, else production; https unless loopback."""
    raw = value or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
    try:
        url = httpx.URL(raw)
    except httpx.InvalidURL as exc:
        raise ConfigurationError(f"base URL {raw!r} is not a valid URL") from exc
    if url.scheme == "https" and url.host:
        return str(url).rstrip("/")
    if url.scheme == "http" and _is_loopback(url.host):
        return str(url).rstrip("/")
    raise ConfigurationError(
        f"base URL {raw!r} refused: credentials are only sent over https (plain http is allowed for loopback hosts only)"
    )


def build_config(base: ReliabilityConfig | None, **overrides: Any) -> ReliabilityConfig:
    """The client's reliability settings: ``base`` (or the defaults) with non-None overrides."""
    config = base if base is not None else ReliabilityConfig()
    changes = {name: value for name, value in overrides.items() if value is not None}
    return attrs.evolve(config, **changes) if changes else config
