"""Split an inline request line into arguments, as Redis's sdssplitargs does.

Inline requests are what a person types into telnet: words separated by
blanks, with double quotes (C escapes such as ``\\n`` and ``\\x41``) and
single quotes (only ``\\'`` is an escape). A closing quote must be followed by
a blank or the end of the line. As in C, a NUL byte ends the line. Pure
function: never reads or writes anything.
"""

from __future__ import annotations

# C's isspace(): the blanks skipped between arguments.
_C_SPACE = frozenset(b" \t\n\v\f\r")
# The bytes that end an unquoted argument (sdssplitargs's own switch).
_ARG_END = frozenset(b" \n\r\t\x00")
# Bytes that need the slow path: quotes, NUL, and the blanks that separate
# arguments but do not end one.
_SPECIAL = (b'"', b"'", b"\x00", b"\v", b"\f")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}


def split_inline(line: bytes) -> list[bytes] | None:
    """Return the arguments of an inline request, or None for unbalanced quotes."""
    if not any(special in line for special in _SPECIAL):
        # The common case: plain words. bytes.split() splits on C's isspace(),
        # which is exact once \v and \f (blanks only between arguments) are absent.
        return line.split()
    n = len(line)
    args: list[bytes] = []
    p = 0
    while True:
        while p < n and line[p] in _C_SPACE:
            p += 1
        if p >= n or line[p] == 0:
            return args
        current = bytearray()
        in_double = in_single = False
        while True:
            c = line[p] if p < n else 0
            if in_double:
                if (
                    c == 92  # backslash
                    and p + 3 < n
                    and line[p + 1] == 120  # x
                    and line[p + 2] in _HEX
                    and line[p + 3] in _HEX
                ):
                    current.append(int(line[p + 2 : p + 4], 16))
                    p += 3
                elif c == 92 and p + 1 < n and line[p + 1] != 0:
                    p += 1
                    escaped = line[p]
                    current.append(_ESCAPES.get(escaped, escaped))
                elif c == 34:  # closing double quote
                    if p + 1 < n and line[p + 1] != 0 and line[p + 1] not in _C_SPACE:
                        return None
                    p += 1
                    break
                elif c == 0:
                    return None
                else:
                    current.append(c)
            elif in_single:
                if c == 92 and p + 1 < n and line[p + 1] == 39:
                    p += 1
                    current.append(39)
                elif c == 39:  # closing single quote
                    if p + 1 < n and line[p + 1] != 0 and line[p + 1] not in _C_SPACE:
                        return None
                    p += 1
                    break
                elif c == 0:
                    return None
                else:
                    current.append(c)
            elif c in _ARG_END:
                break
            elif c == 34:
                in_double = True
            elif c == 39:
                in_single = True
            else:
                current.append(c)
            p += 1
        args.append(bytes(current))
