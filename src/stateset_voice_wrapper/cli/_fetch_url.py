"""Where contracts may be fetched from: the URL policy of ``stateset-voice contracts check``
and ``scripts/fetch-contracts`` (see :mod:`._fetch`).

The base URL must be ``https://``, or ``http://`` to a loopback host: exactly ``localhost``, a
dotted-quad ``127.x.x.x`` or ``[::1]``. ``127.1``, ``0x7f000001``, ``[::ffff:127.0.0.1]``,
``localhost.example.com`` and fullwidth digits are not loopback: each means different things
to different parsers, or is simply another host. A URL must be printable ASCII, without a user
name or password (they would end up in messages and the committed lock file), a query or a
fragment; a malformed host, an invalid ``xn--`` label or an out-of-range port is a
:class:`ContractFetchError`, never a raw exception.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from .. import StateSetVoiceError
from .._shared.untrusted import escape_untrusted

__all__ = [
    "CONTRACT_PATHS",
    "DEFAULT_CONTRACTS_URL",
    "ENV_CONTRACTS_URL",
    "ContractFetchError",
    "check_base_url",
    "display_url",
    "parse_url",
]

DEFAULT_CONTRACTS_URL: Final = "https://voice.stateset.app"
#: Overrides the deployment the contracts come from (for ``contracts check`` it wins over
#: ``STATESET_VOICE_BASE_URL``; ``--base-url`` wins over both).
ENV_CONTRACTS_URL: Final = "STATESET_VOICE_CONTRACTS_URL"
#: Where a deployment serves each contract (the sandbox serves them there too).
CONTRACT_PATHS: Final[Mapping[str, str]] = {
    "public": "/api-docs/public.json",
    "admin": "/api-docs/admin.json",
}
MAX_SHOWN: Final = 200
"""Longest URL or detail a message shows."""
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)\Z")
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)\Z")


class ContractFetchError(StateSetVoiceError):
    """A contract could not be downloaded, was refused, or is not an OpenAPI document.

    The message names the URL (without credentials) and what was wrong, never the content.
    """


def display_url(url: str) -> str:
    """``url`` fit for a message: without a user name or password, escaped and shortened."""
    text = url
    scheme, sep, rest = url.partition("://")
    if sep:
        authority, slash, tail = rest.partition("/")
        if "@" in authority:
            authority = "***@" + authority.rsplit("@", 1)[1]
        text = f"{scheme}{sep}{authority}{slash}{tail}"
    return escape_untrusted(text, max_length=MAX_SHOWN)


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    """Lower-case, IPv6 without brackets."""
    port: int

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return False
    return address.is_loopback


def _check_host(host: str, shown: str) -> None:
    if ":" in host:  # an IPv6 literal (urlsplit removed the brackets)
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ContractFetchError(f"{shown}: the host is not a valid IPv6 address") from None
        return
    labels = host.removesuffix(".").split(".")
    if _NUMERIC_LABEL.match(labels[-1]):
        # Numeric hosts must be a plain dotted quad: 127.1, 0x7f000001 and 017.0.0.1 mean
        # different addresses to different parsers.
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise ContractFetchError(
                f"{shown}: the host is not a valid dotted-quad IPv4 address"
            ) from None
        return
    for label in labels:
        if not _LABEL.match(label):
            raise ContractFetchError(f"{shown}: the host is not a valid host name")
        if label.startswith("xn--"):
            try:
                label.encode("ascii").decode("idna")
            except UnicodeError:
                raise ContractFetchError(
                    f"{shown}: the host is not a valid internationalised (xn--) name"
                ) from None


def parse_url(raw: str) -> tuple[Origin, str]:
    """The origin and path of an absolute URL that passes the policy in the module docstring."""
    shown = display_url(raw)
    if not raw.isascii() or not raw.isprintable() or " " in raw:
        raise ContractFetchError(
            f"{shown}: URLs must be printable ASCII (write an international host in its xn-- form)"
        )
    if "://" not in raw:
        raise ContractFetchError(
            f"{shown}: not an absolute URL: it needs a scheme, e.g. https://voice.stateset.app"
        )
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise ContractFetchError(f"{shown}: not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise ContractFetchError(f"{shown}: the scheme must be https")
    if "@" in parts.netloc:
        raise ContractFetchError(
            f"{shown}: a contracts URL must not contain a user name or password"
        )
    if parts.query or parts.fragment or raw.endswith(("?", "#")):
        raise ContractFetchError(f"{shown}: a contracts URL takes no query or fragment")
    host = (parts.hostname or "").lower()
    if not host:
        raise ContractFetchError(f"{shown}: the URL has no host")
    _check_host(host, shown)
    if port == 0:
        raise ContractFetchError(f"{shown}: port 0 is not a valid port")
    if scheme == "http" and not _is_loopback(host):
        raise ContractFetchError(
            f"{shown}: contracts are only fetched over https (plain http is allowed for"
            " localhost, 127.0.0.0/8 and [::1] only)"
        )
    origin = Origin(scheme, host, port or (443 if scheme == "https" else 80))
    return origin, parts.path


def check_base_url(raw: str) -> str:
    """``raw`` as a base URL to fetch contracts from, without a trailing slash.

    Raises:
        ContractFetchError: when it breaks the policy in the module docstring.
    """
    origin, path = parse_url(raw.strip())
    return f"{origin.scheme}://{origin.netloc}{path.rstrip('/')}"
