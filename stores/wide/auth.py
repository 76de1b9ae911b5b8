"""PasswordAuthenticator: roles and salted password hashes stored in the engine.

Roles live in the storage engine's ``system_auth.roles`` table (partition key
``role``; ``can_login``, ``is_superuser``, ``salted_hash``), written and read
through the storage API directly: CQL treats ``system_auth`` as a system
keyspace users may not modify, and the table carries no CQL metadata, so no
CQL statement reads the hashes. Hashes are PBKDF2-SHA256 with a random salt
(Cassandra uses bcrypt; the standard library has none). On first use the
superuser ``cassandra``/``cassandra`` is created, as Cassandra does. Never
logs or returns a password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
import time

from stores.wide.cql.types import BOOLEAN, TEXT
from stores.wide.storage import Cell, LivenessInfo, Mutation, RowUpdate, TableSchema

AUTH_KEYSPACE = "system_auth"
ROLES_TABLE = "roles"
DEFAULT_USER = "cassandra"
DEFAULT_PASSWORD = "cassandra"
PBKDF2_ITERATIONS = 100_000


def hash_password(
    password: str, *, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS
) -> str:
    """Return ``pbkdf2_sha256$iterations$salt$hash`` for a password."""
    salt = os.urandom(16) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return "$".join(
        [
            "pbkdf2_sha256",
            str(iterations),
            base64.b64encode(salt).decode(),
            base64.b64encode(digest).decode(),
        ]
    )


def check_password(password: str, salted_hash: str) -> bool:
    """Return True if the password matches a hash made by ``hash_password``."""
    try:
        scheme, iterations, salt, expected = salted_hash.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        digest = hashlib.pbkdf2_hmac(
            "sha256", password.encode("utf-8"), base64.b64decode(salt), int(iterations)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(base64.b64encode(digest).decode(), expected)


class PasswordAuthenticator:
    """Check users against ``system_auth.roles`` in a storage engine."""

    def __init__(self, engine, *, iterations: int = PBKDF2_ITERATIONS):
        self.engine = engine
        self.iterations = iterations
        self._ready = False
        self._lock = threading.Lock()
        # Checks that passed, keyed by role: a fingerprint of (hash, password)
        # so a driver opening many connections pays for PBKDF2 once.
        self._verified: dict[str, str] = {}

    def setup(self) -> None:
        """Create the roles table and the default superuser when missing."""
        with self._lock:
            if self._ready:
                return
            if AUTH_KEYSPACE not in self.engine.keyspaces():
                self.engine.create_keyspace(
                    AUTH_KEYSPACE,
                    {
                        "replication": {
                            "class": "org.apache.cassandra.locator.SimpleStrategy",
                            "replication_factor": "1",
                        },
                        "durable_writes": True,
                    },
                )
            if not any(
                t.keyspace == AUTH_KEYSPACE and t.name == ROLES_TABLE for t in self.engine.tables()
            ):
                self.engine.create_table(
                    TableSchema(
                        keyspace=AUTH_KEYSPACE,
                        name=ROLES_TABLE,
                        partition_key=["role"],
                        regular=["can_login", "is_superuser", "salted_hash"],
                    )
                )
            self._ready = True
        if self._row(DEFAULT_USER) is None:
            self.create_role(DEFAULT_USER, DEFAULT_PASSWORD, superuser=True)

    def create_role(self, role: str, password: str, *, superuser: bool = False) -> None:
        """Create or replace a login role with a password."""
        stamp = time.time_ns() // 1000
        cells = {
            "can_login": Cell(BOOLEAN.serialize(True), stamp),
            "is_superuser": Cell(BOOLEAN.serialize(superuser), stamp),
            "salted_hash": Cell(
                TEXT.serialize(hash_password(password, iterations=self.iterations)), stamp
            ),
        }
        row = RowUpdate(b"", liveness=LivenessInfo(stamp), cells=cells)
        self.engine.apply(Mutation(AUTH_KEYSPACE, ROLES_TABLE, TEXT.serialize(role), rows=[row]))
        self._verified.pop(role, None)

    def _row(self, role: str) -> dict[str, bytes] | None:
        result = self.engine.read(AUTH_KEYSPACE, ROLES_TABLE, TEXT.serialize(role))
        if result is None or not result.rows:
            return None
        return {name: cell.value for name, cell in result.rows[0].cells.items()}

    def authenticate(self, username: str, password: str) -> bool:
        """Return True if the role exists, may log in, and the password matches."""
        self.setup()
        row = self._row(username)
        if row is None or not BOOLEAN.deserialize(row.get("can_login") or b"\x00"):
            return False
        salted_hash = TEXT.deserialize(row.get("salted_hash") or b"")
        fingerprint = hashlib.sha256(f"{salted_hash}\0{password}".encode()).hexdigest()
        if self._verified.get(username) == fingerprint:
            return True
        if not check_password(password, salted_hash):
            return False
        self._verified[username] = fingerprint
        return True
