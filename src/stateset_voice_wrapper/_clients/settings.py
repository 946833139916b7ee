"""The typed clients' settings: credentials, base URL and reliability configuration.

Nothing here does I/O; the sync and async clients share it.
"""

from __future__ import annotations

import ipaddress
import os
import re
from typing import Any

import attrs
import httpx

from .._reliability.options import ReliabilityConfig
from .._shared.defaults import DEFAULT_BASE_URL, ENV_BASE_URL, env_names
from .._shared.errors import ConfigurationError
from .._shared.redact import redact_url
from .._shared.validate import check_credential

__all__ = ["build_config", "resolve_base_url", "resolve_key"]


def resolve_key(value: str | None, *, env: str, what: str) -> str:
    """The explicit key, else the environment variable ``env`` (or its legacy names).

    Surrounding whitespace is stripped; what is left must be printable ASCII without spaces,
    of a sane length (``_shared/validate.py``), or a :class:`ConfigurationError` names the
    problem and its position, never the key: a zero-width space pasted with the key, or a
    newline inside it, is caught here instead of leaking the whole ``Authorization`` header
    into an h11 error, a log line or a ``UnicodeEncodeError``.
    """
    key = value
    source = f"the {what}"
    if key is None:
        for name in env_names(env):
            if os.environ.get(name):
                key = os.environ[name]
                source = f"the {what} (from {name})"
                break
    if key is None or (isinstance(key, str) and not key.strip()):
        raise ConfigurationError(
            f"no {what}: pass it to the client or set the {env} environment variable"
        )
    return check_credential(key, what=source.removeprefix("the "))


_LOOPBACK_NAMES = frozenset({"localhost"})
#: Canonical dotted-quad IPv4: four decimal parts, no leading zeros (so no 127.1, 0x7f000001,
#: 2130706433 or 0177.0.0.1, which resolvers would also read as loopback).
_DOTTED_QUAD = re.compile(r"(?:0|[1-9]\d{0,2})(?:\.(?:0|[1-9]\d{0,2})){3}")
#: A DNS name after IDNA encoding: labels of letters, digits and inner hyphens.
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def _is_loopback(host: str) -> bool:
    """Strictly loopback: ``localhost``, a canonical ``127.x.y.z`` or ``::1``, all in ASCII.

    Anything else, however a resolver would read it (``localhost.evil.example``, ``127.1``,
    ``0x7f000001``, ``[::ffff:127.0.0.1]``, fullwidth letters), is not.
    """
    if host in _LOOPBACK_NAMES:
        return True
    if _DOTTED_QUAD.fullmatch(host):
        return ipaddress.IPv4Address(host).is_loopback
    try:
        address = ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return address == ipaddress.IPv6Address("::1")


def _valid_host(host: str) -> bool:
    if not host or len(host) > 253:
        return False
    if ":" in host:  # an IPv6 literal (httpx has removed the brackets)
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    return all(_LABEL.fullmatch(label) and _valid_ace(label) for label in host.split("."))


def _valid_ace(label: str) -> bool:
    """An ``xn--`` label must decode as IDNA (httpx checks this; httpx2 does not)."""
    if not label.lower().startswith("xn--"):
        return True
    try:
        label.encode("ascii").decode("idna")
    except UnicodeError:
        return False
    return True


def _shown(raw: str) -> str:
    """The URL for an error message: userinfo, query and fragment removed, bounded."""
    return redact_url(raw)[:200]


def resolve_base_url(value: str | None) -> str:
    """The explicit base URL, else STATESET_VOICE_BASE_URL, else production.

    It must be ``https://host[:port][/prefix]`` (plain ``http`` only for a strictly loopback
    host), with a valid host and port, no credentials, query or fragment, and not end in
    ``/api/v1`` (the client adds that itself; a proxy's prefix such as ``/voice`` is fine).
    Everything else raises :class:`ConfigurationError`, which never echoes credentials.
    """
    raw = value if value is not None else os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
    if not isinstance(raw, str):
        raise ConfigurationError(f"base URL must be a string, got {type(raw).__name__}")
    raw = raw.strip() or DEFAULT_BASE_URL
    if "://" not in raw:
        raise ConfigurationError(
            f"base URL {_shown(raw)!r} has no scheme: write it as https://{_shown(raw)}"
        )
    try:
        url = httpx.URL(raw)
        # Reading the parts decodes them (IDNA for the host), which can fail too.
        _parts = (url.scheme, url.host, url.port, url.path, url.userinfo, str(url))
    except Exception as exc:  # httpx.InvalidURL, and idna's UnicodeError subclasses
        raise ConfigurationError(
            f"base URL {_shown(raw)!r} is not a valid URL ({type(exc).__name__})"
        ) from None
    if url.userinfo or "@" in raw.split("://", 1)[1].split("/", 1)[0]:
        raise ConfigurationError(
            "base URL contains credentials (user info before '@'); they are refused and not"
            " shown: pass the key as the client's key, not in the URL"
        )
    shown = _shown(raw)
    if url.scheme not in ("http", "https"):
        raise ConfigurationError(f"base URL {shown!r} refused: the scheme must be https")
    if not all(_valid_ace(label) for label in url.host.split(".")):
        # The message httpx's own parse gives, so both HTTP stacks refuse it alike.
        raise ConfigurationError(f"base URL {shown!r} is not a valid URL (IDNA label)")
    if not _valid_host(url.host):
        raise ConfigurationError(f"base URL {shown!r} has no valid host name")
    if url.port is not None and not 1 <= url.port <= 65535:
        raise ConfigurationError(f"base URL {shown!r} has port {url.port}, outside 1-65535")
    if url.query or url.fragment or "?" in raw or "#" in raw:
        raise ConfigurationError(f"base URL {shown!r} refused: no query string or fragment")
    segments = [segment for segment in url.path.split("/") if segment]
    for i in range(len(segments) - 1):
        if segments[i].lower() == "api" and segments[i + 1].lower() == "v1":
            raise ConfigurationError(
                f"base URL {shown!r} contains /api/v1: the client adds /api/v1/... itself, so"
                " requests would go to /api/v1/api/v1/...; give the base URL without it"
                " (a proxy's own prefix, such as https://proxy.example/voice, is fine)"
            )
    if url.scheme == "http" and not _is_loopback(url.host):
        raise ConfigurationError(
            f"base URL {shown!r} refused: credentials are only sent over https (plain http is"
            " allowed for localhost, 127.x.y.z and ::1 only)"
        )
    return str(url).rstrip("/")


def build_config(base: ReliabilityConfig | None, **overrides: Any) -> ReliabilityConfig:
    """The client's reliability settings: ``base`` (or the defaults) with non-None overrides."""
    config = base if base is not None else ReliabilityConfig()
    changes = {name: value for name, value in overrides.items() if value is not None}
    return attrs.evolve(config, **changes) if changes else config
