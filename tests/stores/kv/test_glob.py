"""Redis glob patterns."""

import pytest

from stores.kv.glob import glob_match


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        (b"*", b"anything", True),
        (b"h?llo", b"hello", True),
        (b"h?llo", b"hllo", False),
        (b"h*llo", b"heeeello", True),
        (b"h[ae]llo", b"hallo", True),
        (b"h[ae]llo", b"hillo", False),
        (b"h[^e]llo", b"hallo", True),
        (b"h[^e]llo", b"hello", False),
        (b"h[a-b]llo", b"hbllo", True),
        (b"h[b-a]llo", b"hallo", True),
        (b"h\\*llo", b"h*llo", True),
        (b"h\\*llo", b"hello", False),
        (b"a.b", b"axb", False),
        (b"a(b", b"a(b", True),
        (b"*\n*", b"x\ny", True),
    ],
)
def test_glob_match(pattern, text, expected):
    assert glob_match(pattern, text) is expected
