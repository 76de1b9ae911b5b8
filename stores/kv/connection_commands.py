"""The commands about the connection itself: HELLO, AUTH, CLIENT, QUIT, RESET.

They need what only the server has (the socket, the other clients, the
protocol the replies are encoded in), so the connection runs them around
the engine session instead of through it, with Redis 7's replies, error
texts and checks (arity, NOAUTH, RESP2 subscribed context). Inside MULTI
they are queued as rows of the engine's command table, so EXEC runs them in
order, except QUIT and RESET, which act at once as in Redis. Never touches
the data set.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stores.kv.replies import OK, QUEUED, ErrorReply, Map, SimpleString, Verbatim
from stores.kv.resp.request_reader import parse_ll

if TYPE_CHECKING:
    from stores.kv.connection import Connection

REDIS_VERSION = "7.0.15"

AUTH_WITHOUT_PASSWORD = (
    "ERR AUTH <password> called without any password configured for the default user. "
    "Are you sure your configuration is correct?"
)
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
HELLO_NOAUTH = (
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
    "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
    "select the RESP protocol version at the same time"
)
BAD_CLIENT_NAME = "ERR Client names cannot contain spaces, newlines or special characters."

CLIENT_HELP = [
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "    * ID <client-id>",
    "      Kill connections by client id.",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "SETINFO <LIB-NAME|LIB-VER> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "NO-TOUCH (ON|OFF)",
    "    Will not touch LRU/LFU stats when this mode is on.",
    "HELP",
    "    Print this help.",
]


SUBSCRIBED_ONLY = (
    "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
    "are allowed in this context"
)


class ConnectionCommand:
    """A command run by the connection instead of the engine session.

    ``arity`` counts like Redis's (negative: at least). ``no_auth`` commands
    run before the client has authenticated; ``immediate`` ones run at once
    even inside MULTI and in a RESP2 subscribed context (QUIT, RESET).
    """

    __slots__ = ("name", "arity", "handler", "no_auth", "immediate")

    def __init__(
        self,
        name: str,
        arity: int,
        handler: Callable[[Connection, list[bytes]], Any],
        *,
        no_auth: bool = False,
        immediate: bool = False,
    ) -> None:
        self.name = name
        self.arity = arity
        self.handler = handler
        self.no_auth = no_auth
        self.immediate = immediate

    def __call__(self, conn: Connection, argv: list[bytes]) -> Any:
        """Check the command as Redis's processCommand does, then run or queue it."""
        count = len(argv)
        if (count != self.arity) if self.arity > 0 else (count < -self.arity):
            if conn.session.multi is not None:
                conn.session.multi_error = True
            return _arity(self.name)
        session = conn.session
        if self.immediate:
            return self.handler(conn, argv)
        if not self.no_auth and not session.authenticated:
            return ErrorReply("NOAUTH Authentication required.")
        if session.protocol == 2 and (session.channels or session.patterns):
            return ErrorReply(SUBSCRIBED_ONLY.format(self.name))
        if session.multi is not None:
            session.multi.append((self._queued_command(conn), argv))
            return QUEUED
        return self.handler(conn, argv)

    def _queued_command(self, conn: Connection) -> Any:
        """Return a command-table row that runs this command when EXEC runs the queue."""
        from stores.kv.commands import Command

        handler = self.handler
        return Command(
            self.name,
            self.arity,
            ("noscript", "loading", "stale"),
            0,
            0,
            0,
            lambda session, argv: handler(conn, argv),
            None,
            "connection",
            "",
        )


def _arity(name: str) -> ErrorReply:
    return ErrorReply(f"ERR wrong number of arguments for '{name}' command")


def _text(arg: bytes) -> str:
    return arg.decode("utf-8", "surrogateescape")


def _valid_name(name: bytes) -> bool:
    """Return True if every byte is printable ASCII other than space (Redis's rule)."""
    return all(33 <= byte <= 126 for byte in name)


def _requirepass(conn: Connection) -> bytes:
    value = conn.engine.config.get("requirepass") or ""
    return value.encode() if isinstance(value, str) else bytes(value)


def _check_password(conn: Connection, username: bytes, password: bytes) -> bool:
    """Return True if the default user accepts these credentials."""
    if username != b"default":
        return False
    required = _requirepass(conn)
    if not required:
        return True  # the default user has "nopass" when no password is configured
    return hmac.compare_digest(password, required)


def _authenticated(conn: Connection) -> None:
    conn.session.authenticated = True
    conn.reader.auth_required = False


def auth(conn: Connection, argv: list[bytes]) -> Any:
    """AUTH [username] password."""
    if len(argv) > 3:
        return ErrorReply("ERR syntax error")
    if len(argv) == 2:
        if not _requirepass(conn):
            return ErrorReply(AUTH_WITHOUT_PASSWORD)
        username, password = b"default", argv[1]
    else:
        username, password = argv[1], argv[2]
    if not _check_password(conn, username, password):
        return ErrorReply(WRONGPASS)
    _authenticated(conn)
    return OK


def hello(conn: Connection, argv: list[bytes]) -> Any:
    """HELLO [protover [AUTH username password] [SETNAME clientname]]."""
    version = 0
    if len(argv) >= 2:
        version = parse_ll(argv[1])
        if version is None:
            return ErrorReply("ERR Protocol version is not an integer or out of range")
        if version < 2 or version > 3:
            return ErrorReply("NOPROTO unsupported protocol version")
    credentials = None
    name = None
    j = 2
    while j < len(argv):
        option = argv[j].lower()
        more = len(argv) - 1 - j
        if option == b"auth" and more >= 2:
            credentials = (argv[j + 1], argv[j + 2])
            j += 3
        elif option == b"setname" and more >= 1:
            name = argv[j + 1]
            j += 2
        else:
            return ErrorReply(f"ERR Syntax error in HELLO option '{_text(argv[j])}'")
    if credentials is not None:
        if not _check_password(conn, *credentials):
            return ErrorReply(WRONGPASS)
        _authenticated(conn)
    if not conn.session.authenticated:
        return ErrorReply(HELLO_NOAUTH)
    if name is not None:
        if not _valid_name(name):
            return ErrorReply(BAD_CLIENT_NAME)
        conn.session.name = name or None
    if version:
        conn.set_protocol(version)
    return Map(
        {
            b"server": b"redis",
            b"version": REDIS_VERSION.encode(),
            b"proto": conn.protocol,
            b"id": conn.session.id,
            b"mode": b"standalone",
            b"role": b"master",
            b"modules": [],
        }
    )


def quit_(conn: Connection, argv: list[bytes]) -> Any:
    """QUIT: reply OK, then close once the reply is written."""
    conn.closing = True
    return OK


def reset(conn: Connection, argv: list[bytes]) -> Any:
    """RESET: leave MULTI, WATCH and pub/sub, back to db 0, RESP2, no name."""
    session = conn.session
    engine = conn.engine
    with engine.lock:
        session.multi = None
        session.multi_error = False
        session.unwatch()
        engine.pubsub.drop(session)
        session.select(0)
    session.name = None
    conn.set_protocol(2)
    session.authenticated = not _requirepass(conn)
    conn.reader.auth_required = not session.authenticated
    return SimpleString("RESET")


def client(conn: Connection, argv: list[bytes]) -> Any:
    """CLIENT ID | SETNAME | GETNAME | LIST | INFO | KILL | SETINFO | NO-EVICT | NO-TOUCH | HELP."""
    sub = argv[1].lower()
    handler = _CLIENT_SUBCOMMANDS.get(sub)
    if handler is None:
        return ErrorReply(f"ERR unknown subcommand '{_text(argv[1])}'. Try CLIENT HELP.")
    arity = handler[1]
    if (len(argv) != arity) if arity > 0 else (len(argv) < -arity):
        return ErrorReply(
            f"ERR wrong number of arguments for 'client|{sub.decode('ascii', 'replace')}' command"
        )
    return handler[0](conn, argv)


def _client_id(conn: Connection, argv: list[bytes]) -> Any:
    return conn.session.id


def _client_setname(conn: Connection, argv: list[bytes]) -> Any:
    name = argv[2]
    if not _valid_name(name):
        return ErrorReply(BAD_CLIENT_NAME)
    conn.session.name = name or None
    return OK


def _client_getname(conn: Connection, argv: list[bytes]) -> Any:
    return conn.session.name or None


def _client_list(conn: Connection, argv: list[bytes]) -> Any:
    clients = list(conn.server.clients.values())
    j = 2
    while j < len(argv):
        option = argv[j].lower()
        if option == b"type" and j + 1 < len(argv):
            kind = argv[j + 1].lower()
            if kind not in (b"normal", b"pubsub", b"master", b"replica", b"slave"):
                return ErrorReply(f"ERR Unknown client type '{_text(argv[j + 1])}'")
            clients = [c for c in clients if c.client_type().encode() == kind]
            j += 2
        elif option == b"id" and j + 1 < len(argv):
            ids = set()
            for arg in argv[j + 1 :]:
                if not arg.isdigit() or int(arg) <= 0:
                    return ErrorReply("ERR Invalid client ID")
                ids.add(int(arg))
            clients = [c for c in clients if c.session.id in ids]
            j = len(argv)
        else:
            return ErrorReply("ERR syntax error")
    text = "".join(c.describe() + "\n" for c in clients)
    return Verbatim(text.encode("utf-8", "surrogateescape"))


def _client_info(conn: Connection, argv: list[bytes]) -> Any:
    return Verbatim((conn.describe() + "\n").encode("utf-8", "surrogateescape"))


def _client_kill(conn: Connection, argv: list[bytes]) -> Any:
    clients = conn.server.clients
    if len(argv) == 3:
        # The old form: CLIENT KILL addr:port, reply OK or an error.
        address = _text(argv[2])
        for other in list(clients.values()):
            if other.peer == address:
                _kill(conn, other)
                return OK
        return ErrorReply("ERR No such client")
    if len(argv) % 2:
        return ErrorReply("ERR syntax error")
    filters: list[Callable[[Connection], bool]] = []
    skip_me = True
    for j in range(2, len(argv), 2):
        option, value = argv[j].lower(), argv[j + 1]
        if option == b"id":
            if not value.isdigit() or int(value) <= 0:
                return ErrorReply("ERR client-id should be greater than 0")
            wanted = int(value)
            filters.append(lambda c, wanted=wanted: c.session.id == wanted)
        elif option == b"type":
            kind = value.lower()
            if kind not in (b"normal", b"pubsub", b"master", b"replica", b"slave"):
                return ErrorReply(f"ERR Unknown client type '{_text(value)}'")
            filters.append(lambda c, kind=kind: c.client_type().encode() == kind)
        elif option == b"addr":
            address = _text(value)
            filters.append(lambda c, address=address: c.peer == address)
        elif option == b"laddr":
            address = _text(value)
            filters.append(lambda c, address=address: c.local == address)
        elif option == b"user":
            filters.append(lambda c, user=value: user == b"default")
        elif option == b"skipme":
            if value.lower() == b"yes":
                skip_me = True
            elif value.lower() == b"no":
                skip_me = False
            else:
                return ErrorReply("ERR syntax error")
        else:
            return ErrorReply("ERR syntax error")
    killed = 0
    for other in list(clients.values()):
        if skip_me and other is conn:
            continue
        if all(check(other) for check in filters):
            _kill(conn, other)
            killed += 1
    return killed


def _kill(conn: Connection, other: Connection) -> None:
    if other is conn:
        conn.closing = True  # reply first, then close, as Redis does for itself
    else:
        other.close()


def _client_setinfo(conn: Connection, argv: list[bytes]) -> Any:
    attribute = argv[2].lower()
    value = argv[3]
    if attribute not in (b"lib-name", b"lib-ver"):
        return ErrorReply(f"ERR Unrecognized option '{_text(argv[2])}'")
    if not _valid_name(value) and value:
        return ErrorReply(
            f"ERR {attribute.decode()} cannot contain spaces, newlines or special characters."
        )
    if attribute == b"lib-name":
        conn.session.lib_name = value
    else:
        conn.session.lib_ver = value
    return OK


def _client_on_off(conn: Connection, argv: list[bytes]) -> Any:
    if argv[2].lower() not in (b"on", b"off"):
        return ErrorReply("ERR syntax error")
    return OK


def _client_help(conn: Connection, argv: list[bytes]) -> Any:
    return [SimpleString(line) for line in CLIENT_HELP]


# subcommand -> (handler, arity counted like Redis: the whole argv)
_CLIENT_SUBCOMMANDS: dict[bytes, tuple[Callable[[Connection, list[bytes]], Any], int]] = {
    b"id": (_client_id, 2),
    b"setname": (_client_setname, 3),
    b"getname": (_client_getname, 2),
    b"list": (_client_list, -2),
    b"info": (_client_info, 2),
    b"kill": (_client_kill, -3),
    b"setinfo": (_client_setinfo, 4),
    b"no-evict": (_client_on_off, 3),
    b"no-touch": (_client_on_off, 3),
    b"help": (_client_help, 2),
}


def _table() -> dict[bytes, ConnectionCommand]:
    commands = [
        ConnectionCommand("auth", -2, auth, no_auth=True),
        ConnectionCommand("hello", -1, hello, no_auth=True),
        ConnectionCommand("client", -2, client),
        ConnectionCommand("quit", -1, quit_, immediate=True),
        ConnectionCommand("reset", 1, reset, immediate=True),
    ]
    table: dict[bytes, ConnectionCommand] = {}
    for entry in commands:
        table[entry.name.encode()] = entry
        table[entry.name.upper().encode()] = entry
    return table


CONNECTION_COMMANDS = _table()
