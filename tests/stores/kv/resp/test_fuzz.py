"""Property-based fuzz of the codec: no exception but ProtocolError escapes,
memory stays bounded, and whatever is written is read back unchanged."""

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stores.kv.replies import ErrorReply, Map, SetReply, SimpleString
from stores.kv.resp import (
    NEED_DATA,
    ProtocolError,
    ReplyReader,
    RequestReader,
    encode_pipeline,
    encode_reply,
    request_reader,
)

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces that steer random input towards the parser's interesting states.
TOKENS = st.sampled_from(
    [
        b"*",
        b"$",
        b"\r\n",
        b"\r",
        b"\n",
        b"-1",
        b"0",
        b"1",
        b"3",
        b"12",
        b"999999999999",
        b"2147483648",
        b'"',
        b"'",
        b"\\x4",
        b"\\",
        b" ",
        b"\x00",
        b"PING",
        b"SET",
        b"a",
        # RESP3 types hiredis would read inside a request, some of them as
        # bytes or lists that could pass for arguments or commands.
        b"+",
        b"=",
        b"(",
        b"~",
        b">",
        b"|",
        b"%",
        b":",
        b"_",
        b"#t",
        b"*0",
        b"txt:",
    ]
)
FRAGMENTS = st.lists(st.one_of(st.binary(max_size=8), TOKENS), max_size=40).map(b"".join)


def _cuts(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for point in points:
        pieces.append(data[last:point])
        last = point
    pieces.append(data[last:])
    return pieces


@FUZZ
@given(data=FRAGMENTS, cuts=st.lists(st.integers(min_value=0), max_size=6))
def test_random_request_bytes_only_raise_protocol_error(data, cuts):
    limit = 4096
    reader = RequestReader(max_bulk_len=64, query_buffer_limit=limit)
    commands = []
    try:
        for piece in _cuts(data, cuts):
            reader.feed(piece)
            assert reader.buffered <= limit
            while (command := reader.next_command()) is not None:
                assert command and all(type(arg) is bytes for arg in command)
                commands.append(command)
    except ProtocolError as exc:
        assert exc.message
    # Parsing the same bytes in one piece gives the same commands (up to an error).
    whole = RequestReader(max_bulk_len=64, query_buffer_limit=limit)
    got = []
    try:
        whole.feed(data)
        while (command := whole.next_command()) is not None:
            got.append(command)
    except ProtocolError:
        pass
    assert got[: len(commands)] == commands or commands[: len(got)] == got


ARGV = st.lists(st.binary(max_size=30), min_size=1, max_size=6)


@FUZZ
@given(commands=st.lists(ARGV, min_size=1, max_size=8), cuts=st.lists(st.integers(0), max_size=8))
def test_encoded_pipelines_read_back_unchanged_however_split(commands, cuts):
    reader = RequestReader()
    got = []
    for piece in _cuts(encode_pipeline(commands), cuts):
        reader.feed(piece)
        while (command := reader.next_command()) is not None:
            got.append(command)
    assert got == commands
    assert reader.buffered == 0


SCALARS = st.one_of(
    st.binary(max_size=20),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.none(),
    st.floats(allow_nan=False),
    st.text(
        alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)),
        max_size=10,
    ).map(SimpleString),
    st.text(
        alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)),
        max_size=10,
    ).map(lambda text: ErrorReply("ERR " + text)),
)
REPLIES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(SetReply),
        st.dictionaries(st.binary(max_size=5), children, max_size=3).map(Map),
    ),
    max_leaves=12,
)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict):
        return type(a) is type(b) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and a == b


@FUZZ
@given(value=REPLIES, cuts=st.lists(st.integers(0), max_size=5))
def test_resp3_replies_read_back_unchanged_however_split(value, cuts):
    reader = ReplyReader()
    got = []
    for piece in _cuts(encode_reply(value, 3), cuts):
        reader.feed(piece)
        while (reply := reader.next_reply()) is not NEED_DATA:
            got.append(reply)
    assert len(got) == 1 and _same(got[0], value)


@FUZZ
@given(data=FRAGMENTS)
def test_random_reply_bytes_only_raise_protocol_error(data):
    reader = ReplyReader()
    reader.feed(data)
    try:
        for _ in range(100):
            if reader.next_reply() is NEED_DATA:
                break
    except ProtocolError:
        pass


def _outcome(data: bytes, cuts: list[int], mode: str) -> tuple[list, str | None]:
    """Read data with the fast path ("hiredis" or "split") or only the careful one."""
    saved = request_reader._hiredis
    if mode == "split":
        request_reader._hiredis = None
    try:
        reader = RequestReader(max_bulk_len=64, query_buffer_limit=4096)
        if mode == "careful":
            reader._parse_ahead = lambda: None
            reader._plain_commands = lambda view: None
        commands = []
        try:
            for piece in _cuts(data, cuts):
                reader.feed(piece)
                while (command := reader.next_command()) is not None:
                    commands.append(command)
        except ProtocolError as exc:
            return commands, exc.message
        return commands, None
    finally:
        request_reader._hiredis = saved


@FUZZ
@given(
    data=st.lists(
        st.one_of(FRAGMENTS, st.lists(ARGV, max_size=3).map(encode_pipeline)), max_size=5
    ).map(b"".join),
    cuts=st.lists(st.integers(min_value=0), max_size=4),
)
def test_the_fast_paths_read_exactly_what_the_careful_path_reads(data, cuts):
    careful = _outcome(data, cuts, "careful")
    assert _outcome(data, cuts, "hiredis") == careful
    assert _outcome(data, cuts, "split") == careful
