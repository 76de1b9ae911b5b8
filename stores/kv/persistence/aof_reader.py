"""The append-only file reader: RESP commands in, with their byte offsets.

Owns parsing an incremental AOF file into commands, telling a truncated
tail (the file ends inside a command: a crash mid-write) from corruption (a
byte that cannot be there), and replaying a file into the engine with SELECT
and MULTI/EXEC handled as Redis loads them. Never writes to the file except
to cut a truncated tail, and only when the caller says the file is the last.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from stores.kv.persistence.errors import CorruptFileError, ReplayRefusedError
from stores.kv.persistence.format import AOF_ARRAY, AOF_BULK, CRLF, MAX_AOF_ARGS, MAX_AOF_BULK
from stores.kv.persistence.fs import FileSystem

log = logging.getLogger("stores.kv.persistence")

CHUNK = 1 << 20
MAX_HEADER = 24  # "*" or "$" plus up to 20 digits plus CRLF
RESYNC_BUDGET = 64 << 20  # bytes parsed looking for whole commands in a torn tail


class _Bad(Exception):
    def __init__(self, offset: int, reason: str):
        self.offset = offset
        self.reason = reason


def _incomplete_header(buf: bytes, pos: int, what: str) -> int:
    """Return 1 (one more byte needed) for a header cut by the buffer's end, or raise."""
    tail = buf[pos + 1 : pos + MAX_HEADER]
    digits = tail[:-1] if tail.endswith(b"\r") else tail
    if len(buf) - pos >= MAX_HEADER or (digits and not digits.isdigit()):
        raise _Bad(pos, f"malformed {what} header")
    return 1


def parse_command(buf: bytes, pos: int) -> tuple[list[bytes], int] | int:
    """Parse one command at ``pos``: return (argv, end) or the bytes still needed."""
    size = len(buf)
    if pos >= size:
        return 1
    if buf[pos] != AOF_ARRAY:
        raise _Bad(pos, f"expected '*' at the start of a command, found {buf[pos : pos + 1]!r}")
    nl = buf.find(CRLF, pos + 1, pos + MAX_HEADER)
    if nl < 0:
        return _incomplete_header(buf, pos, "array")
    digits = buf[pos + 1 : nl]
    if not digits.isdigit():
        raise _Bad(pos, "malformed array header")
    count = int(digits)
    if count == 0:
        raise _Bad(pos, "empty command")
    if count > MAX_AOF_ARGS:
        raise _Bad(pos, f"array length {count} over the limit {MAX_AOF_ARGS}")
    p = nl + 2
    argv: list[bytes] = []
    append = argv.append
    for _ in range(count):
        if p >= size:
            return 1
        if buf[p] != AOF_BULK:
            raise _Bad(p, f"expected '$' at the start of an argument, found {buf[p : p + 1]!r}")
        nl = buf.find(CRLF, p + 1, p + MAX_HEADER)
        if nl < 0:
            return _incomplete_header(buf, p, "bulk")
        digits = buf[p + 1 : nl]
        if not digits.isdigit():
            raise _Bad(p, "malformed bulk header")
        length = int(digits)
        if length > MAX_AOF_BULK:
            raise _Bad(p, f"bulk length {length} over the limit {MAX_AOF_BULK}")
        start = nl + 2
        end = start + length
        if end + 2 > size:
            return end + 2 - size
        if buf[end] != 13 or buf[end + 1] != 10:
            raise _Bad(end, "expected CRLF after an argument")
        append(buf[start:end])
        p = end + 2
    return argv, p


def _whole_commands_follow(buf: bytes, pos: int) -> bool:
    """Return True if, inside the unfinished command at ``pos``, whole commands
    run exactly to the end of ``buf``.

    A torn write ends the file inside its last command; a damaged length in
    the middle of a file also "runs past the end", but over commands that
    still parse. Checked within a budget of parsed bytes.
    """
    budget = RESYNC_BUDGET
    start = buf.find(b"\r\n*", pos + 1)
    while start >= 0 and budget > 0:
        first = cursor = start + 2
        try:
            while cursor < len(buf):
                parsed = parse_command(buf, cursor)
                if isinstance(parsed, int):
                    break
                cursor = parsed[1]
        except _Bad:
            pass
        if cursor == len(buf) and cursor > first:
            return True
        budget -= cursor - first + 1
        start = buf.find(b"\r\n*", start + 1)
    return False


def classify_tail(rest: bytes) -> str | None:
    """Classify the bytes from the end of the last whole command to the end of a file.

    Return ``"padding"`` for NULs only (the preallocated space of a mapped
    file, or a tail whose blocks were never written), ``"torn"`` for one
    unfinished command, maybe followed by NULs (a crash in the middle of a
    write or of a copy into the mapping), or None when the bytes are
    corruption: a byte that cannot start a command, or whole commands after
    the unfinished one.
    """
    data = rest.rstrip(b"\0")
    if not data:
        return "padding"
    first = data[0]
    if first != 0 and first != AOF_ARRAY:
        return None
    # A copy into the mapping writes the command's "*" last: interrupted, it
    # left a NUL there, and the bytes it had copied, maybe with NUL holes
    # where it had not copied yet. What landed before the first hole must
    # be the start of a command.
    candidate = b"*" + data[1:]
    hole = candidate.find(0, 1)
    if hole >= 0 and (first == AOF_ARRAY or hole == 1):
        # A write lands as a prefix, and a copy starts with its head: bytes
        # after a hole there are damage (or pages a power loss mixed up).
        return None
    landed = candidate if hole < 0 else candidate[:hole]
    try:
        parsed = parse_command(landed, 0)
    except _Bad:
        return None
    if isinstance(parsed, tuple):
        # Whole but never marked so (only a mapped copy does that), and
        # nothing may follow it.
        whole = first == 0 and hole < 0 and parsed[1] == len(candidate)
        return "torn" if whole else None
    return None if _whole_commands_follow(data, 0) else "torn"


@dataclass
class ParsedFile:
    """What reading an AOF file found: where its whole commands end."""

    valid_end: int
    size: int
    tail: str = ""  # "padding" or "torn" when valid_end < size

    @property
    def truncated(self) -> bool:
        return self.valid_end < self.size


def iter_commands(
    stream: BinaryIO, path: str, result: ParsedFile
) -> Iterator[tuple[int, list[bytes]]]:
    """Yield (offset, argv) for each whole command of ``stream``.

    Raise CorruptFileError for a byte that cannot be there. At the end,
    ``result.valid_end`` is the offset just after the last whole command and
    ``result.size`` the file's size: they differ when the tail is truncated.
    """
    buf = b""
    base = 0  # file offset of buf[0]
    pos = 0
    eof = False
    while True:
        try:
            parsed = parse_command(buf, pos)
        except _Bad as bad:
            rest = buf[pos:] + stream.read()
            tail = classify_tail(rest)
            if tail is not None:
                result.valid_end = base + pos
                result.size = base + pos + len(rest)
                result.tail = tail
                return
            raise CorruptFileError(path, base + bad.offset, bad.reason) from None
        if isinstance(parsed, tuple):
            argv, end = parsed
            yield base + pos, argv
            pos = end
            continue
        if eof:
            if pos < len(buf) and _whole_commands_follow(buf, pos):
                raise CorruptFileError(
                    path,
                    base + pos,
                    "a length runs past the end of the file over whole commands "
                    "(a damaged length, not a torn write)",
                )
            result.valid_end = base + pos
            result.size = base + len(buf)
            result.tail = "torn"
            return
        chunk = stream.read(max(CHUNK, parsed))
        if not chunk:
            eof = True
            continue
        buf = buf[pos:] + chunk
        base += pos
        pos = 0


def replay_file(
    fs: FileSystem,
    path: str,
    apply: Callable[[int, list[bytes]], None],
    last: bool,
) -> int:
    """Replay the AOF file ``path`` through ``apply(db, argv)``; return the command count.

    A truncated tail of the ``last`` file is cut at the end of its last whole
    command (or before an unfinished MULTI) with a logged warning; in any
    other file it is corruption. ``apply`` raises ReplayRefusedError for a
    command the engine refuses, reported as corruption at that command.
    """
    db = 0
    count = 0
    queued: list[tuple[int, list[bytes]]] | None = None
    multi_offset = 0
    result = ParsedFile(0, 0)
    with fs.open_read(path) as stream:
        for offset, argv in iter_commands(stream, path, result):
            name = argv[0].upper()
            try:
                if name == b"SELECT":
                    db = _select_index(argv)
                elif name == b"MULTI":
                    if queued is not None:
                        raise ReplayRefusedError("MULTI calls can not be nested")
                    queued, multi_offset = [], offset
                elif name == b"EXEC":
                    if queued is None:
                        raise ReplayRefusedError("EXEC without MULTI")
                    for queued_db, queued_argv in queued:
                        apply(queued_db, queued_argv)
                    queued = None
                elif queued is not None:
                    queued.append((db, argv))
                else:
                    apply(db, argv)
            except ReplayRefusedError as exc:
                raise CorruptFileError(path, offset, str(exc)) from None
            count += 1
    valid_end = result.valid_end
    if queued is not None:
        valid_end = multi_offset
    if valid_end < result.size:
        if not last:
            raise CorruptFileError(path, valid_end, "file ends inside a command")
        if result.tail == "padding" and valid_end == result.valid_end:
            log.info(
                "the append-only file %s ends in %d bytes of preallocated space after "
                "byte offset %d (it was not closed); truncating it there",
                path,
                result.size - valid_end,
                valid_end,
            )
        else:
            log.warning(
                "the append-only file %s ends inside a command at byte offset %d "
                "(%d bytes of a partial write); truncating it to its last whole command",
                path,
                valid_end,
                result.size - valid_end,
            )
        fs.truncate(path, valid_end)
    return count


def _select_index(argv: list[bytes]) -> int:
    if len(argv) != 2 or not argv[1].isdigit():
        raise ReplayRefusedError("malformed SELECT")
    return int(argv[1])
