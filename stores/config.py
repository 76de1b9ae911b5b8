"""Parse the ``KV_URL`` and ``WIDE_URL`` settings into store targets.

Pure functions with no Django import: settings.py calls them to choose cache,
session and channel-layer backends, and ``stores.clients`` calls them to build
handles. A bad value raises ``StoreURLError`` naming the setting and the value.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

KV_SCHEMES = ("embedded", "memory", "redis", "rediss", "unix")
WIDE_SCHEMES = ("embedded", "memory", "cassandra")

DEFAULT_REDIS_PORT = 6379
DEFAULT_CQL_PORT = 9042


class StoreURLError(ValueError):
    """A store URL setting that cannot be used."""

    def __init__(self, setting: str, value: str, reason: str):
        self.setting = setting
        self.value = value
        self.reason = reason
        super().__init__(f"{setting}={value!r}: {reason}")


@dataclass(frozen=True)
class KVTarget:
    """Where the key-value store lives."""

    kind: str  # "embedded", "memory" or "redis"
    url: str
    path: str | None = None  # data directory for "embedded"
    db: int = 0


@dataclass(frozen=True)
class WideTarget:
    """Where the wide-column store lives."""

    kind: str  # "embedded", "memory" or "cassandra"
    url: str
    path: str | None = None  # data directory for "embedded"
    hosts: tuple[str, ...] = ()
    port: int = DEFAULT_CQL_PORT
    keyspace: str | None = None
    username: str | None = None
    password: str | None = None


def _split_scheme(setting: str, value: str, schemes: tuple[str, ...]) -> tuple[str, str]:
    if not value or ":" not in value:
        raise StoreURLError(
            setting, value, f"expected a URL with one of the schemes {', '.join(schemes)}"
        )
    scheme, _, rest = value.partition(":")
    scheme = scheme.lower()
    if scheme not in schemes:
        raise StoreURLError(
            setting, value, f"unknown scheme {scheme!r}; use one of {', '.join(schemes)}"
        )
    return scheme, rest


def _embedded_path(setting: str, value: str, rest: str) -> str:
    path = rest[2:] if rest.startswith("//") else rest
    if not path:
        raise StoreURLError(
            setting, value, "embedded: needs a data directory, e.g. embedded:var/kv"
        )
    return path


def parse_kv_url(value: str, setting: str = "KV_URL") -> KVTarget:
    """Return the KVTarget described by a KV_URL value."""
    scheme, rest = _split_scheme(setting, value, KV_SCHEMES)
    if scheme == "memory":
        if rest.strip("/"):
            raise StoreURLError(setting, value, "memory: takes no path")
        return KVTarget("memory", value)
    if scheme == "embedded":
        return KVTarget("embedded", value, path=_embedded_path(setting, value, rest))
    if scheme == "unix":
        return KVTarget("redis", value)
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError as exc:
        raise StoreURLError(setting, value, f"bad port: {exc}") from None
    if not parts.hostname:
        raise StoreURLError(setting, value, "redis:// needs a host, e.g. redis://127.0.0.1:6379/0")
    db_text = parts.path.strip("/") or "0"
    if not db_text.isdigit():
        raise StoreURLError(setting, value, f"database must be a number, not {db_text!r}")
    del port
    return KVTarget("redis", value, db=int(db_text))


def parse_wide_url(value: str, setting: str = "WIDE_URL") -> WideTarget:
    """Return the WideTarget described by a WIDE_URL value."""
    scheme, rest = _split_scheme(setting, value, WIDE_SCHEMES)
    if scheme == "memory":
        if rest.strip("/"):
            raise StoreURLError(setting, value, "memory: takes no path")
        return WideTarget("memory", value)
    if scheme == "embedded":
        return WideTarget("embedded", value, path=_embedded_path(setting, value, rest))
    if not rest.startswith("//"):
        raise StoreURLError(setting, value, "expected cassandra://host1,host2:9042/keyspace")
    netloc, _, path = rest[2:].partition("/")
    userinfo, _, hostlist = netloc.rpartition("@")
    username = password = None
    if userinfo:
        user, _, pw = userinfo.partition(":")
        username, password = unquote(user), unquote(pw)
    hosts: list[str] = []
    port = DEFAULT_CQL_PORT
    for item in hostlist.split(","):
        item = item.strip()
        if not item:
            raise StoreURLError(setting, value, "empty host in the host list")
        host, sep, port_text = item.rpartition(":") if not item.endswith("]") else (item, "", "")
        if not sep:
            host = item
        elif not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise StoreURLError(setting, value, f"bad port {port_text!r}")
        else:
            port = int(port_text)
        hosts.append(host.strip("[]"))
    keyspace = path.strip("/") or None
    if keyspace is not None and not keyspace.replace("_", "a").isalnum():
        raise StoreURLError(setting, value, f"bad keyspace name {keyspace!r}")
    return WideTarget(
        "cassandra",
        value,
        hosts=tuple(hosts),
        port=port,
        keyspace=keyspace,
        username=username,
        password=password,
    )
