"""Read client requests: bytes in, commands (lists of bytes) out.

A sans-I/O state machine in the manner of h11: the server feeds it whatever
bytes arrive and asks for complete commands; it never touches a socket. It
accepts what Redis 7 accepts, multibulk requests (``*2\\r\\n$4\\r\\nECHO...``)
and inline requests (``ECHO hello``), with Redis's limits and its exact
``Protocol error: ...`` messages, including the quirks of Redis's C parser
(a NUL byte hides the rest of a line; the two bytes after a bulk argument
are skipped, not checked). Memory stays bounded by the query buffer limit:
the reader never allocates for a length it has only been told about.
"""

from __future__ import annotations

import collections
import re
from collections.abc import Iterator

from stores.kv.resp.errors import ProtocolError, QueryBufferLimitError
from stores.kv.resp.format import (
    ARRAY,
    BULK,
    DEFAULT_PROTO_MAX_BULK_LEN,
    DEFAULT_QUERY_BUFFER_LIMIT,
    INLINE_MAX_SIZE,
    LONG_STR_SIZE,
    MAX_MULTIBULK_LEN,
    UNAUTHENTICATED_MAX_BULK_LEN,
    UNAUTHENTICATED_MAX_MULTIBULK_LEN,
)
from stores.kv.resp.inline import split_inline

try:  # hiredis's C reader, when installed, speeds up reading pipelines
    import hiredis as _hiredis

    _pack_command = _hiredis.pack_command
except ImportError:  # pragma: no cover - hiredis is in requirements.txt
    _hiredis = None
    _pack_command = None

# hiredis allocates an aggregate's list as soon as it reads the header, for
# the declared size: "*2000000000" would cost 16 GB. Any bytes that could be
# read as an aggregate header declaring 100000 elements or more keep hiredis
# out (the careful reader never allocates for a declared size).
_LARGE_AGGREGATE = re.compile(rb"[*~>%|]\d{6}")
_LARGE_ARRAY = re.compile(rb"\*\d{6}")
# The RESP types hiredis returns as bytes or as a list, which could pass for
# an argument or a command: simple string, verbatim, big number, set, push,
# attribute, map.
_LOOKALIKE_TYPES = b"+=(~>|%"
# Fed after the bytes to parse: comes back as [] only at a command boundary.
_END_MARK = b"*0\r\n"
_END_MARK_LINE = b"*0\r"

# Up to this many unprocessed bytes, pipelines are parsed ahead in one go
# (hiredis, or splitting on CRLF), which looks at the whole buffer each time.
SPLIT_AHEAD_MAX = 64 * 1024

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


def parse_ll(text: bytes) -> int | None:
    """Return the integer Redis's string2ll reads from text, or None.

    Strict: no sign other than a leading minus, no leading zeros, no blanks,
    fewer than 21 characters, within a signed 64-bit integer.
    """
    if not text or len(text) >= LONG_STR_SIZE:
        return None
    digits = text[1:] if text[0] == 45 else text  # '-'
    if not digits.isdigit() or (digits[0] == 48 and len(text) != 1):
        return None
    value = int(text)
    if value < _INT64_MIN or value > _INT64_MAX:
        return None
    return value


def _hidden_by_nul(buf: bytes, start: int, end: int) -> bool:
    """Return True if Redis's strchr would stop at a NUL before end."""
    return buf.find(b"\x00", start, end) >= 0


class RequestReader:
    """Turn the bytes a client sends into commands, one at a time.

    ``feed(data)`` adds received bytes (raising ``QueryBufferLimitError`` when
    the client has sent too much that is not yet processed);
    ``next_command()`` returns the next complete command as a list of bytes,
    None when more bytes are needed, or raises ``ProtocolError``. Set
    ``auth_required`` while the client still has to authenticate: Redis then
    refuses large requests before reading them.
    """

    def __init__(
        self,
        *,
        max_bulk_len: int = DEFAULT_PROTO_MAX_BULK_LEN,
        query_buffer_limit: int = DEFAULT_QUERY_BUFFER_LIMIT,
    ):
        self.max_bulk_len = max_bulk_len
        self.query_buffer_limit = query_buffer_limit
        self._auth_required = False
        # Commands parsed ahead by the fast path, not yet returned, and the
        # bytes they came from (counted against the query buffer limit while
        # any of them is left); an error met after them is raised once they
        # are all returned. A consumer may popleft() ready commands itself.
        self.ready: collections.deque[list[bytes]] = collections.deque()
        self._ready_bytes = 0
        self._error: ProtocolError | None = None
        self._hiredis_reader = None
        self._buf = b""
        self._pos = 0
        # Bytes received but not yet joined onto _buf: joined only once there
        # are enough to make progress, so a large bulk is copied once.
        self._chunks: list[bytes] = []
        self._chunks_len = 0
        self._need = 0
        # A multibulk command being read: its arguments so far, how many are
        # still to come, the length of the current bulk (-1 before its header).
        self._argv: list[bytes] | None = None
        self._remaining = 0
        self._bulk_len = -1
        self._argv_bytes = 0

    @property
    def buffered(self) -> int:
        """Return how many received bytes are held and not yet returned."""
        held = len(self._buf) - self._pos + self._chunks_len + self._argv_bytes
        return held + self._ready_bytes if self.ready else held

    @property
    def auth_required(self) -> bool:
        """Return True while Redis's limits for unauthenticated clients apply."""
        return self._auth_required

    @auth_required.setter
    def auth_required(self, value: bool) -> None:
        if value and not self._auth_required and self.ready:
            self._recheck_ready()
        self._auth_required = value

    def _recheck_ready(self) -> None:
        """Apply the unauthenticated limits to commands parsed ahead, as if parsed now."""
        kept: list[list[bytes]] = []
        for argv in self.ready:
            if len(argv) > UNAUTHENTICATED_MAX_MULTIBULK_LEN:
                error = "Protocol error: unauthenticated multibulk length"
            elif any(len(arg) > UNAUTHENTICATED_MAX_BULK_LEN for arg in argv):
                error = "Protocol error: unauthenticated bulk length"
            else:
                kept.append(argv)
                continue
            self._error = ProtocolError(error)
            break
        # In place: a consumer may hold the deque.
        self.ready.clear()
        self.ready.extend(kept)
        if not kept:
            self._ready_bytes = 0

    def feed(self, data: bytes) -> None:
        """Add bytes received from the client."""
        if not data:
            return
        if (
            not self.ready
            and self._pos >= len(self._buf)
            and not self._chunks
            and self._argv is None
            and self._error is None
            and not self._auth_required
            and data[0] == ARRAY
            and len(data) <= SPLIT_AHEAD_MAX
            and len(data) <= self.query_buffer_limit
            and _hiredis is not None
        ):
            # The common case, a reader holding nothing fed whole commands:
            # parse them at once.
            data = bytes(data)
            plain = self._plain_commands(data)
            if plain is not None:
                commands, end = plain
                self.ready.extend(commands)
                self._ready_bytes = end
                self._buf = data
                self._pos = end
                return
        if self.buffered + len(data) > self.query_buffer_limit:
            # The client is closed without a reply: drop what it sent.
            self._buf, self._pos, self._chunks, self._chunks_len = b"", 0, [], 0
            self._argv, self._argv_bytes = None, 0
            raise QueryBufferLimitError("query buffer limit reached")
        if self._pos >= len(self._buf) and not self._chunks:
            self._buf = bytes(data)
            self._pos = 0
        else:
            self._chunks.append(bytes(data))
            self._chunks_len += len(data)

    def _join(self) -> None:
        rest = self._buf[self._pos :] if self._pos < len(self._buf) else b""
        self._chunks.insert(0, rest)
        self._buf = b"".join(self._chunks)
        self._pos = 0
        self._chunks = []
        self._chunks_len = 0

    def commands(self) -> Iterator[list[bytes]]:
        """Yield the complete commands, as ``next_command`` returns them, until None.

        A consumer that stops early leaves the rest in the reader, as if
        ``next_command`` had not been called for them; ``ProtocolError`` is
        raised where ``next_command`` would raise it.
        """
        ready = self.ready
        while True:
            if ready:
                argv = ready.popleft()
                if not ready:
                    self._ready_bytes = 0
            else:
                argv = self.next_command()
                if argv is None:
                    return
            yield argv

    def next_command(self) -> list[bytes] | None:
        """Return the next complete command, or None if more bytes are needed."""
        ready = self.ready
        if not ready:
            self._ready_bytes = 0  # a consumer may have emptied ready itself
            if self._error is not None:
                error, self._error = self._error, None
                raise error
            if self._pos >= len(self._buf) and not self._chunks:
                return None  # nothing unread (a partial command keeps its state)
            if self._argv is None and not self._auth_required:
                self._parse_ahead()
            if not ready:
                return self._next_command_slowly()
        argv = ready.popleft()
        if not ready:
            self._ready_bytes = 0
        return argv

    def _parse_ahead(self) -> None:
        """Parse every complete, plainly formed multibulk command in one loop.

        The fast path for pipelines: anything unusual (an inline command, a
        malformed or incomplete one, a limit) stops it, and the careful path
        below takes over at that command, so the result is the same.
        """
        if self._chunks and len(self._buf) - self._pos + self._chunks_len >= self._need:
            self._join()
        buf = self._buf
        start = pos = self._pos
        n = len(buf)
        if start < n and n - start <= SPLIT_AHEAD_MAX and buf[start] == ARRAY:
            if _hiredis is not None:
                pos = self._hiredis_ahead(buf, start, n)
            else:
                pos = self._split_ahead(buf, start)
            if pos != start:
                self._pos = pos
                self._ready_bytes += pos - start
            return
        max_bulk = self.max_bulk_len
        ready = self.ready
        find = buf.find
        while pos < n and buf[pos] == ARRAY:
            nl = find(b"\r", pos)
            if nl < 0 or nl > n - 2:
                break
            text = buf[pos + 1 : nl]
            if not (text.isdigit() and text[0] != 48 and len(text) < 10):
                break
            p = nl + 2
            argv = []
            for _ in range(int(text)):
                if p >= n or buf[p] != BULK:
                    break
                nl = find(b"\r", p)
                if nl < 0 or nl > n - 2:
                    break
                text = buf[p + 1 : nl]
                if not (text.isdigit() and (text[0] != 48 or len(text) == 1) and len(text) < 20):
                    break
                end = nl + 2 + int(text)
                if end + 2 > n or end - nl - 2 > max_bulk:
                    break
                argv.append(buf[nl + 2 : end])
                p = end + 2
            else:
                ready.append(argv)
                pos = p
                continue
            break
        if pos != start:
            self._pos = pos
            self._ready_bytes += pos - start

    def _hiredis_ahead(self, buf: bytes, start: int, n: int) -> int:
        """Parse ahead with hiredis's C reader, keeping only what Redis would read alike.

        hiredis reads more than Redis accepts in a request (nested arrays,
        integers, RESP3 types), so its result is kept only with a proof
        that Redis reads the very same commands: the cheap one when it
        applies, re-encoding otherwise. Return the new position.
        """
        view = buf[start:] if start else buf
        plain = self._plain_commands(view)
        if plain is not None:
            commands, end = plain
            self.ready.extend(commands)
            return start + end
        if _LARGE_AGGREGATE.search(view) is not None:
            return self._split_ahead(buf, start)  # hiredis would allocate the declared size
        return self._hiredis_reencoded(buf, start, n)

    def _plain_commands(self, view: bytes) -> tuple[list[list[bytes]], int] | None:
        """Return the commands at the start of view and where they end, if plainly encoded.

        None when view may hold anything hiredis reads differently from
        Redis, or when no command is complete: the caller then proves
        hiredis's result another way or reads carefully.

        The cheap proof: view holds no RESP type byte whose value hiredis
        returns as bytes or as a list (``+ = ( ~ > | %``), no "*0" and no
        aggregate of 100000 elements or more. What hiredis can still read
        then is "*" arrays, "$" bulks (strict lengths, the two bytes after
        a bulk skipped unchecked, as Redis does) and types whose values are
        not bytes, which are rejected below. A "*0" end mark fed after view
        comes back as an empty list only if view ends on a command
        boundary; otherwise the last value read may straddle view's end,
        so it is dropped and the rest is proved by re-encoding.
        """
        if (
            len(view.translate(None, _LOOKALIKE_TYPES)) != len(view)
            or _END_MARK_LINE in view
            or _LARGE_ARRAY.search(view) is not None
        ):
            return None
        reader = self._hiredis_reader or _hiredis.Reader()
        self._hiredis_reader = None
        reader.feed(view)
        reader.feed(_END_MARK)
        gets = reader.gets
        join = b"".join
        commands = []
        whole = False
        try:
            while (command := gets()) is not False:
                if command == []:
                    whole = True
                    break
                if type(command) is not list:
                    break
                join(command)  # TypeError unless every argument is bytes
                commands.append(command)
        except (_hiredis.ProtocolError, TypeError):
            pass
        if whole:
            end = len(view)
            self._hiredis_reader = reader  # it holds nothing: reuse it next time
        else:
            if commands:
                commands.pop()  # it may have read into the end mark
            if not commands:
                return None
            encoded = join(map(_pack_command, map(tuple, commands)))
            if not view.startswith(encoded):
                return None
            end = len(encoded)
        max_bulk = self.max_bulk_len
        if max_bulk < end and any(len(arg) > max_bulk for argv in commands for arg in argv):
            return None
        return commands, end

    def _hiredis_reencoded(self, buf: bytes, start: int, n: int) -> int:
        """Parse ahead with hiredis, then prove the result by re-encoding it.

        The result is taken only if re-encoding it gives back exactly the
        bytes read: then Redis would have read the very same commands.
        Return the new position.
        """
        reader = _hiredis.Reader()
        reader.feed(buf, start)
        commands = []
        gets = reader.gets
        try:
            while (command := gets()) is not False:
                commands.append(command)
        except _hiredis.ProtocolError:
            pass
        if not commands:
            return start
        try:
            encoded = b"".join(map(_pack_command, map(tuple, commands)))
        except TypeError:
            return start
        if not buf.startswith(encoded, start) or [] in commands:
            return start
        max_bulk = self.max_bulk_len
        if max_bulk < n - start and any(len(arg) > max_bulk for argv in commands for arg in argv):
            return start
        self.ready.extend(commands)
        return start + len(encoded)

    def _split_ahead(self, buf: bytes, start: int) -> int:
        """Parse ahead by splitting a small buffer on CRLF; return the new position.

        A command is taken only if its lines are exactly the canonical
        encoding of the arguments found (``b"$%d" % len(arg)`` before each),
        which rules out everything Redis would read differently: CRLF inside
        an argument, other bytes after one, signs, leading zeros, NULs.
        """
        lines = (buf[start:] if start else buf).split(b"\r\n")
        complete = len(lines) - 1  # the last piece has no CRLF yet
        max_bulk = self.max_bulk_len
        check_bulk = max_bulk < SPLIT_AHEAD_MAX
        ready = self.ready
        pos = start
        i = 0
        while i < complete:
            header = lines[i]
            digits = header[1:]
            if not (header[:1] == b"*" and digits.isdigit() and len(digits) < 10):
                break
            count = int(digits)
            end = i + 1 + 2 * count
            if not count or end > complete or header != b"*%d" % count:
                break
            argv = lines[i + 2 : end : 2]
            if lines[i + 1 : end : 2] != list(map(b"$%d".__mod__, map(len, argv))):
                break
            if check_bulk and max(map(len, argv)) > max_bulk:
                break
            ready.append(argv)
            pos += sum(map(len, lines[i:end])) + 2 * (end - i)
            i = end
        return pos

    def _next_command_slowly(self) -> list[bytes] | None:
        while True:
            if self._chunks and len(self._buf) - self._pos + self._chunks_len >= self._need:
                self._join()
            buf = self._buf
            pos = self._pos
            n = len(buf)
            if self._argv is None:
                if pos >= n:
                    self._buf = b""
                    self._pos = 0
                    return None
                if buf[pos] != ARRAY:
                    argv = self._read_inline(buf, pos, n)
                    if argv is None:
                        return None
                    if argv:
                        return argv
                    continue  # Redis ignores empty inline lines.
                if not self._read_multibulk_header(buf, pos, n):
                    return None
                if self._argv is None:
                    continue  # "*0" and negative counts are ignored, as by Redis.
            argv = self._read_bulks()
            if argv is not None:
                return argv
            return None

    def _read_inline(self, buf: bytes, pos: int, n: int) -> list[bytes] | None:
        nl = buf.find(b"\n", pos)
        if nl >= 0 and _hidden_by_nul(buf, pos, nl):
            nl = -1
        if nl < 0 or nl - pos > INLINE_MAX_SIZE:
            # Redis reads at most 16 KiB at a time, so it never sees a line
            # longer than the limit at once; refuse it whatever the chunking.
            if n - pos > INLINE_MAX_SIZE:
                raise ProtocolError("Protocol error: too big inline request")
            self._need = n - pos + 1
            return None
        end = nl - 1 if nl > pos and buf[nl - 1] == 13 else nl
        self._pos = nl + 1
        argv = split_inline(buf[pos:end])
        if argv is None:
            raise ProtocolError("Protocol error: unbalanced quotes in request")
        return argv

    def _read_multibulk_header(self, buf: bytes, pos: int, n: int) -> bool:
        nl = buf.find(b"\r", pos)
        if nl >= 0:
            text = buf[pos + 1 : nl]
            if nl <= n - 2 and text.isdigit() and text[0] != 48 and len(text) < 11:
                count = int(text)  # the fast path: a plain positive count
            elif _hidden_by_nul(buf, pos, nl) or nl - pos > INLINE_MAX_SIZE:
                nl = -1
            elif nl > n - 2:
                self._need = n - pos + 1
                return False
            else:
                count = parse_ll(text)
                if count is None:
                    raise ProtocolError("Protocol error: invalid multibulk length")
        if nl < 0:
            if n - pos > INLINE_MAX_SIZE:
                raise ProtocolError("Protocol error: too big mbulk count string")
            self._need = n - pos + 1
            return False
        if count > MAX_MULTIBULK_LEN:
            raise ProtocolError("Protocol error: invalid multibulk length")
        if count > UNAUTHENTICATED_MAX_MULTIBULK_LEN and self._auth_required:
            raise ProtocolError("Protocol error: unauthenticated multibulk length")
        self._pos = nl + 2
        if count > 0:
            self._argv = []
            self._remaining = count
            self._bulk_len = -1
            self._argv_bytes = 0
        return True

    def _read_bulks(self) -> list[bytes] | None:
        buf = self._buf
        pos = self._pos
        n = len(buf)
        argv = self._argv
        remaining = self._remaining
        bulk_len = self._bulk_len
        try:
            while remaining:
                if bulk_len < 0:
                    nl = buf.find(b"\r", pos)
                    if nl >= 0:
                        text = buf[pos + 1 : nl]
                        if (
                            nl <= n - 2
                            and buf[pos] == BULK
                            and text.isdigit()
                            and (text[0] != 48 or len(text) == 1)
                            and len(text) < LONG_STR_SIZE
                        ):
                            bulk_len = int(text)  # the fast path
                            if bulk_len > self.max_bulk_len:
                                raise ProtocolError("Protocol error: invalid bulk length")
                        elif _hidden_by_nul(buf, pos, nl) or nl - pos > INLINE_MAX_SIZE:
                            nl = -1
                        elif nl > n - 2:
                            self._need = n - pos + 1
                            return None
                        elif buf[pos] != BULK:
                            got = buf[pos : pos + 1].decode("utf-8", "surrogateescape")
                            raise ProtocolError(f"Protocol error: expected '$', got '{got}'")
                        else:
                            value = parse_ll(text)
                            if value is None or value < 0 or value > self.max_bulk_len:
                                raise ProtocolError("Protocol error: invalid bulk length")
                            bulk_len = value
                    if nl < 0:
                        if n - pos > INLINE_MAX_SIZE:
                            raise ProtocolError("Protocol error: too big bulk count string")
                        self._need = n - pos + 1
                        return None
                    if bulk_len > UNAUTHENTICATED_MAX_BULK_LEN and self._auth_required:
                        raise ProtocolError("Protocol error: unauthenticated bulk length")
                    pos = nl + 2
                end = pos + bulk_len
                if end + 2 > n:
                    self._need = end + 2 - pos
                    return None
                argv.append(buf[pos:end])
                self._argv_bytes += bulk_len
                pos = end + 2
                bulk_len = -1
                remaining -= 1
        finally:
            self._pos = pos
            self._remaining = remaining
            self._bulk_len = bulk_len
        self._argv = None
        self._argv_bytes = 0
        return argv
