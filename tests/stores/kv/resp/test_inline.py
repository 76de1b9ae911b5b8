"""split_inline: Redis's sdssplitargs rules for inline requests."""

import pytest

from stores.kv.resp.inline import split_inline


@pytest.mark.parametrize(
    "line, args",
    [
        (b"", []),
        (b"   ", []),
        (b"PING", [b"PING"]),
        (b"  SET  a \t b  ", [b"SET", b"a", b"b"]),
        (b'ECHO "two words"', [b"ECHO", b"two words"]),
        (b'ECHO ""', [b"ECHO", b""]),
        (b'ECHO "\\x41\\x4a\\n\\r\\t\\b\\a\\"\\\\\\q"', [b"ECHO", b'AJ\n\r\t\b\a"\\q']),
        (b'ECHO "\\xZZ"', [b"ECHO", b"xZZ"]),
        (b'ECHO "\\x4"', [b"ECHO", b"x4"]),
        (b"ECHO 'it\\'s'", [b"ECHO", b"it's"]),
        (b"ECHO '\\n'", [b"ECHO", b"\\n"]),
        (b'ECHO a"b"', [b"ECHO", b"ab"]),
        (b"ECHO a'b c'd", None),
        (b"ECHO x\x0by", [b"ECHO", b"x\x0by"]),
        (b"ECHO x\x0cy", [b"ECHO", b"x\x0cy"]),
        (b"\x0bECHO\x0c x", [b"ECHO\x0c", b"x"]),
        (b"ECHO a\x00b c", [b"ECHO", b"a"]),
        (b'ECHO "a\x00"', None),
        (b'ECHO "a', None),
        (b"ECHO 'a", None),
        (b'ECHO "a"b', None),
        (b"ECHO 'a'b", None),
        (b'ECHO "a"\x00b', [b"ECHO", b"a"]),
        (b'ECHO "a" b', [b"ECHO", b"a", b"b"]),
        (b"ECHO \xc3\xa9", [b"ECHO", b"\xc3\xa9"]),
    ],
)
def test_split_inline(line, args):
    assert split_inline(line) == args
