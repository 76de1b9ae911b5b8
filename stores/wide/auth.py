"""PasswordAuthenticator: roles and salted password hashes stored in the engine.

Roles live in ``system_auth.roles`` (``role``, ``salted_hash``,
``can_login``, ``is_superuser``), written and read through the in-process
Session like any table. Hashes are PBKDF2-SHA256 with a random salt (Cassandra
uses bcrypt; the standard library has no bcrypt). On first use the superuser
``cassandra``/``cassandra`` is created, as Cassandra does. Never logs or
returns a password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading

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
    """Check users against ``system_auth.roles`` through a cassandra-driver shaped Session."""

    def __init__(self, session, *, iterations: int = PBKDF2_ITERATIONS):
        self.session = session
        self.iterations = iterations
        self._ready = False
        self._lock = threading.Lock()
        # Successful checks, so a driver's connection pool does not pay for
        # PBKDF2 on every connection: (user, password hash of this process).
        self._verified: dict[str, str] = {}

    def setup(self) -> None:
        """Create the roles table and the default superuser when missing."""
        with self._lock:
            if self._ready:
                return
            self.session.execute(
                f"CREATE KEYSPACE IF NOT EXISTS {AUTH_KEYSPACE} WITH replication = "
                "{'class': 'SimpleStrategy', 'replication_factor': 1}"
            )
            self.session.execute(
                f"CREATE TABLE IF NOT EXISTS {AUTH_KEYSPACE}.{ROLES_TABLE} ("
                "role text PRIMARY KEY, can_login boolean, is_superuser boolean, "
                "member_of set<text>, salted_hash text)"
            )
            if self._hash_of(DEFAULT_USER) is None:
                self.create_role(DEFAULT_USER, DEFAULT_PASSWORD, superuser=True)
            self._ready = True

    def create_role(self, role: str, password: str, *, superuser: bool = False) -> None:
        """Create or replace a login role with a password."""
        self.session.execute(
            f"INSERT INTO {AUTH_KEYSPACE}.{ROLES_TABLE} "
            "(role, can_login, is_superuser, salted_hash) VALUES (%s, %s, %s, %s)",
            (role, True, superuser, hash_password(password, iterations=self.iterations)),
        )
        self._verified.pop(role, None)

    def _hash_of(self, role: str) -> str | None:
        row = self.session.execute(
            f"SELECT salted_hash, can_login FROM {AUTH_KEYSPACE}.{ROLES_TABLE} WHERE role = %s",
            (role,),
        ).one()
        if row is None or not row[1]:
            return None
        return row[0]

    def authenticate(self, username: str, password: str) -> bool:
        """Return True if the role exists, may log in, and the password matches."""
        self.setup()
        salted_hash = self._hash_of(username)
        if salted_hash is None:
            return False
        fingerprint = hashlib.sha256(f"{salted_hash}\0{password}".encode()).hexdigest()
        if self._verified.get(username) == fingerprint:
            return True
        if not check_password(password, salted_hash):
            return False
        self._verified[username] = fingerprint
        return True
