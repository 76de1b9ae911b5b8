"""RequestReader: multibulk and inline requests, Redis's limits and errors."""

import pytest

from stores.kv.resp import ProtocolError, QueryBufferLimitError, RequestReader, encode_pipeline
from stores.kv.resp.format import INLINE_MAX_SIZE
from stores.kv.resp.request_reader import parse_ll


def read_all(reader: RequestReader) -> list[list[bytes]]:
    commands = []
    while (command := reader.next_command()) is not None:
        commands.append(command)
    return commands


def parse(data: bytes, **options) -> list[list[bytes]]:
    reader = RequestReader(**options)
    reader.feed(data)
    return read_all(reader)


def error_of(data: bytes, **options) -> str:
    reader = RequestReader(**options)
    reader.feed(data)
    with pytest.raises(ProtocolError) as info:
        read_all(reader)
    return info.value.message


PIPELINE = (
    b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva\r\nl\r\n"
    b"*1\r\n$4\r\nPING\r\n"
    b'ECHO "two words" \'it\\\'s\' "\\x41\\n"\r\n'
    b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"
    b"\r\n"
    b"*0\r\n"
    b"*-1\r\n"
    b"PING\n"
    b"*2\r\n$3\r\nGET\r\n$10\r\n0123456789\r\n"
)
EXPECTED = [
    [b"SET", b"key", b"va\r\nl"],
    [b"PING"],
    [b"ECHO", b"two words", b"it's", b"A\n"],
    [b"ECHO", b""],
    [b"PING"],
    [b"GET", b"0123456789"],
]


def test_pipeline_in_one_piece():
    assert parse(PIPELINE) == EXPECTED


@pytest.mark.parametrize("cut", range(1, len(PIPELINE)))
def test_pipeline_split_at_every_byte_boundary(cut):
    reader = RequestReader()
    reader.feed(PIPELINE[:cut])
    got = read_all(reader)
    reader.feed(PIPELINE[cut:])
    got += read_all(reader)
    assert got == EXPECTED


def test_pipeline_fed_one_byte_at_a_time():
    reader = RequestReader()
    got = []
    for i in range(len(PIPELINE)):
        reader.feed(PIPELINE[i : i + 1])
        got += read_all(reader)
    assert got == EXPECTED
    assert reader.buffered == 0


def test_every_split_into_three_pieces_of_a_small_pipeline():
    data = encode_pipeline([[b"SET", b"a", b"1"], [b"GET", b"a"]]) + b"PING\r\n"
    expected = [[b"SET", b"a", b"1"], [b"GET", b"a"], [b"PING"]]
    for i in range(1, len(data)):
        for j in range(i, len(data)):
            reader = RequestReader()
            got = []
            for piece in (data[:i], data[i:j], data[j:]):
                reader.feed(piece)
                got += read_all(reader)
            assert got == expected, (i, j)


def test_incomplete_command_waits():
    reader = RequestReader()
    reader.feed(b"*2\r\n$4\r\nECHO\r\n$5\r\nhel")
    assert reader.next_command() is None
    assert reader.next_command() is None
    reader.feed(b"lo\r\n")
    assert reader.next_command() == [b"ECHO", b"hello"]


def test_large_bulk_arriving_in_chunks():
    value = bytes(range(256)) * 4096  # 1 MiB
    data = encode_pipeline([[b"SET", b"big", value]])
    reader = RequestReader()
    got = []
    for i in range(0, len(data), 1000):
        reader.feed(data[i : i + 1000])
        got += read_all(reader)
    assert got == [[b"SET", b"big", value]]
    assert reader.buffered == 0


def test_many_arguments_arriving_in_chunks():
    argv = [b"RPUSH", b"list"] + [b"%d" % i for i in range(20000)]
    data = encode_pipeline([argv])
    reader = RequestReader()
    got = []
    for i in range(0, len(data), 997):
        reader.feed(data[i : i + 997])
        got += read_all(reader)
    assert got == [argv]


def test_trailing_two_bytes_of_a_bulk_are_skipped_as_redis_does():
    # Redis does not check the CRLF after a bulk argument; it skips two bytes.
    assert parse(b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n") == [[b"PING"], [b"PING"]]
    assert parse(b"*1\rX$4\rXPING\r\n") == [[b"PING"]]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"*1\r\nfoo\r\n", "Protocol error: expected '$', got 'f'"),
        (b"*2\r\n$4\r\nECHO\r\n:1\r\n", "Protocol error: expected '$', got ':'"),
        (b"*1\r\n\r\r\n", "Protocol error: expected '$', got '\r'"),
        (b"*01\r\n", "Protocol error: invalid multibulk length"),
        (b"*+1\r\n", "Protocol error: invalid multibulk length"),
        (b"*x\r\n", "Protocol error: invalid multibulk length"),
        (b"*\r\n", "Protocol error: invalid multibulk length"),
        (b"*-0\r\n", "Protocol error: invalid multibulk length"),
        (b"* 1\r\n", "Protocol error: invalid multibulk length"),
        (b"*2147483648\r\n", "Protocol error: invalid multibulk length"),
        (b"*99999999999999999999\r\n", "Protocol error: invalid multibulk length"),
        (b"*1\r\n$-1\r\n", "Protocol error: invalid bulk length"),
        (b"*1\r\n$01\r\na\r\n", "Protocol error: invalid bulk length"),
        (b"*1\r\n$+1\r\na\r\n", "Protocol error: invalid bulk length"),
        (b"*1\r\n$\r\n", "Protocol error: invalid bulk length"),
        (b"*1\r\n$536870913\r\n", "Protocol error: invalid bulk length"),
        (b"*1\r\n$9223372036854775808\r\n", "Protocol error: invalid bulk length"),
        (b'PING "a\r\n', "Protocol error: unbalanced quotes in request"),
        (b'ECHO "a"b\r\n', "Protocol error: unbalanced quotes in request"),
        (b"ECHO 'ab'c\r\n", "Protocol error: unbalanced quotes in request"),
        (b"X" * (INLINE_MAX_SIZE + 1), "Protocol error: too big inline request"),
        (b"*" + b"1" * INLINE_MAX_SIZE, "Protocol error: too big mbulk count string"),
        (b"*1\r\n$" + b"1" * INLINE_MAX_SIZE, "Protocol error: too big bulk count string"),
        (b"X" * (INLINE_MAX_SIZE + 1) + b"\r\n", "Protocol error: too big inline request"),
        (b"*" + b"1" * INLINE_MAX_SIZE + b"\r\n", "Protocol error: too big mbulk count string"),
        (
            b"*1\r\n$" + b"1" * INLINE_MAX_SIZE + b"\r\n",
            "Protocol error: too big bulk count string",
        ),
    ],
)
def test_protocol_errors_have_redis_messages(data, message):
    assert error_of(data) == message


def test_commands_before_an_error_are_returned_first():
    reader = RequestReader()
    reader.feed(b"*1\r\n$4\r\nPING\r\n*1\r\nxx\r\n")
    assert reader.next_command() == [b"PING"]
    with pytest.raises(ProtocolError, match="expected '\\$', got 'x'"):
        reader.next_command()


def test_non_ascii_byte_in_error_round_trips_to_the_same_byte():
    message = error_of(b"*1\r\n\xc8\r\n")
    assert message.encode("utf-8", "surrogateescape") == b"Protocol error: expected '$', got '\xc8'"


def test_declared_lengths_do_not_allocate():
    reader = RequestReader()
    reader.feed(b"*2147483647\r\n$536870912\r\nabc")
    assert reader.next_command() is None
    assert reader.buffered < 100


def test_limits_at_their_exact_edges():
    assert parse(b"*1\r\n$5\r\nhello\r\n", max_bulk_len=5) == [[b"hello"]]
    assert error_of(b"*1\r\n$6\r\nhello!\r\n", max_bulk_len=5) == (
        "Protocol error: invalid bulk length"
    )
    reader = RequestReader()
    reader.feed(b"A" * INLINE_MAX_SIZE)
    assert reader.next_command() is None  # exactly 64 KiB without newline: wait
    # The longest accepted line: 64 KiB up to the newline, CR included.
    line = b"A" * (INLINE_MAX_SIZE - 1)
    reader = RequestReader()
    reader.feed(line + b"\r\n")
    assert reader.next_command() == [line]


def test_query_buffer_limit():
    reader = RequestReader(query_buffer_limit=100)
    reader.feed(b"*2\r\n$4\r\nECHO\r\n$200\r\n")
    reader.feed(b"x" * 50)
    assert reader.next_command() is None
    with pytest.raises(QueryBufferLimitError):
        reader.feed(b"x" * 60)


def test_query_buffer_limit_counts_the_arguments_already_read():
    reader = RequestReader(query_buffer_limit=100)
    reader.feed(b"*3\r\n$3\r\nSET\r\n$60\r\n" + b"k" * 60 + b"\r\n")
    assert reader.next_command() is None
    with pytest.raises(QueryBufferLimitError):
        reader.feed(b"$50\r\n" + b"v" * 40)


def test_query_buffer_limit_does_not_count_returned_commands():
    reader = RequestReader(query_buffer_limit=100)
    for _ in range(50):
        reader.feed(b"*2\r\n$4\r\nECHO\r\n$40\r\n" + b"x" * 40 + b"\r\n")
        assert reader.next_command() == [b"ECHO", b"x" * 40]


def test_unauthenticated_limits():
    big = encode_pipeline([[b"x"] * 11])
    reader = RequestReader()
    reader.auth_required = True
    reader.feed(big)
    with pytest.raises(ProtocolError, match="^Protocol error: unauthenticated multibulk length$"):
        reader.next_command()
    reader = RequestReader()
    reader.auth_required = True
    reader.feed(b"*2\r\n$4\r\nAUTH\r\n$16385\r\n")
    with pytest.raises(ProtocolError, match="^Protocol error: unauthenticated bulk length$"):
        reader.next_command()
    reader = RequestReader()
    reader.auth_required = True
    reader.feed(encode_pipeline([[b"x"] * 10, [b"AUTH", b"p" * 16384]]))
    assert read_all(reader) == [[b"x"] * 10, [b"AUTH", b"p" * 16384]]


def test_authenticating_lifts_the_limits_for_later_commands():
    reader = RequestReader()
    reader.auth_required = True
    reader.feed(encode_pipeline([[b"AUTH", b"pw"], [b"MSET"] + [b"k"] * 20]))
    assert reader.next_command() == [b"AUTH", b"pw"]
    reader.auth_required = False
    assert reader.next_command() == [b"MSET"] + [b"k"] * 20


def test_nul_hides_the_rest_of_the_line_as_in_redis():
    # Redis looks for the end of a line with strchr, which stops at a NUL.
    for data in (b"PING\x00\r\n", b"*1\x00\r\n", b"*1\r\n$4\x00\r\nPING\r\n", b"*1\r\n\x00\r\n"):
        reader = RequestReader()
        reader.feed(data)
        assert reader.next_command() is None, data
    assert (
        error_of(b"PING\x00" + b"x" * INLINE_MAX_SIZE) == "Protocol error: too big inline request"
    )
    assert error_of(b"*1\x00\r\n" + b"x" * INLINE_MAX_SIZE) == (
        "Protocol error: too big mbulk count string"
    )


def test_nul_inside_a_bulk_argument_is_data():
    assert parse(b"*2\r\n$4\r\nECHO\r\n$3\r\na\x00b\r\n") == [[b"ECHO", b"a\x00b"]]


def test_feed_accepts_bytearray_and_memoryview():
    reader = RequestReader()
    reader.feed(bytearray(b"PING\r\n"))
    reader.feed(memoryview(b"*1\r\n$4\r\nPING\r\n"))
    assert read_all(reader) == [[b"PING"], [b"PING"]]


@pytest.mark.parametrize(
    "text, value",
    [
        (b"0", 0),
        (b"7", 7),
        (b"-7", -7),
        (b"9223372036854775807", 2**63 - 1),
        (b"-9223372036854775808", -(2**63)),
        (b"9223372036854775808", None),
        (b"-9223372036854775809", None),
        (b"", None),
        (b"-", None),
        (b"-0", None),
        (b"00", None),
        (b"01", None),
        (b"+1", None),
        (b" 1", None),
        (b"1 ", None),
        (b"1_0", None),
        (b"\xd9\xa3", None),
    ],
)
def test_parse_ll_is_as_strict_as_string2ll(text, value):
    assert parse_ll(text) == value


def test_commands_parsed_ahead_count_against_the_query_buffer_limit():
    reader = RequestReader(query_buffer_limit=200)
    reader.feed(encode_pipeline([[b"ECHO", b"x" * 40]] * 3))
    assert reader.next_command() == [b"ECHO", b"x" * 40]
    # Two commands are still held (parsed ahead): they count.
    with pytest.raises(QueryBufferLimitError):
        reader.feed(b"y" * 120)


def test_requiring_auth_rechecks_commands_parsed_ahead():
    big = [b"ECHO"] + [b"a"] * 11
    reader = RequestReader()
    reader.feed(encode_pipeline([[b"RESET"], [b"PING"], big, [b"PING"]]))
    assert reader.next_command() == [b"RESET"]
    reader.auth_required = True
    assert reader.next_command() == [b"PING"]
    with pytest.raises(ProtocolError, match="unauthenticated multibulk length"):
        reader.next_command()
    reader = RequestReader()
    reader.feed(encode_pipeline([[b"RESET"], [b"AUTH", b"p" * 16385]]))
    assert reader.next_command() == [b"RESET"]
    reader.auth_required = True
    with pytest.raises(ProtocolError, match="unauthenticated bulk length"):
        reader.next_command()


def test_an_error_after_good_commands_comes_after_them():
    reader = RequestReader()
    reader.feed(encode_pipeline([[b"PING"], [b"ECHO", b"a"]]) + b"*1\r\n$-3\r\n")
    assert reader.next_command() == [b"PING"]
    assert reader.next_command() == [b"ECHO", b"a"]
    with pytest.raises(ProtocolError, match="invalid bulk length"):
        reader.next_command()


@pytest.mark.parametrize(
    "data",
    [
        b"*2147483648\r\n",
        b"*2000000000\r\n$1\r\na\r\n",
        b"*2\r\n$1\r\naXY*2000000000\r\n",
        b"*2\r\n$1\r\na\r\n*1999999999\r\n",
        b"*1\r\n$3\r\nabc\r\n~1999999999\r\n",
    ],
)
def test_huge_declared_aggregates_are_never_allocated(data):
    # hiredis would allocate the declared list at once (16 GB for *2000000000).
    reader = RequestReader()
    reader.feed(data)
    try:
        read_all(reader)
    except ProtocolError:
        pass
    assert reader.buffered <= len(data)


@pytest.mark.parametrize(
    "data",
    [
        b"*1\r\n+PING\r\n*1\r\n$4\r\nPING\r\n",
        b"*2\r\n$4\r\nECHO\r\n=7\r\ntxt:abc\r\n",
        b"*2\r\n$4\r\nECHO\r\n(123\r\n",
        b"~1\r\n$4\r\nPING\r\n",
        b">1\r\n$4\r\nPING\r\n",
        b"|1\r\n+a\r\n+b\r\n*1\r\n$4\r\nPING\r\n",
        b"%1\r\n$1\r\na\r\n$1\r\nb\r\n",
        b"*1\r\n$4\r\nPING\r\n*0\r\n*1\r\n$4\r\nPING\r\n",
        b"*2\r\n$4\r\nECHO\r\n:1\r\n",
        b"*2\r\n$4\r\nECHO\r\n_\r\n",
        b"*2\r\n$4\r\nECHO\r\n#t\r\n",
        b"*2\r\n$4\r\nECHO\r\n*1\r\n$1\r\na\r\n",
        b"*1\r\n$4\r\nPING\r\n$4\r\nPING\r\n",
        b"*1\r\n$4\r\nPING\r\n$0\r\n\r\n",
        b"*1\r\n$4\r\nPINGXY*1\r\n$4\r\nPING\r\n",
        b"*2\r\n$4\r\nECHO\r\n$3\r\n*0\r\r\n",
        b"*2\r\n$4\r\nECHO\r\n",
        b"*2\r\n$4\r\nECHO\r\n$4\r\n",
    ],
)
def test_hiredis_lookalikes_are_read_as_redis_reads_them(data, monkeypatch):
    # hiredis reads these as lists of bytes too; the reader must still give
    # what Redis gives: the careful path's commands and error.
    def outcome(reader):
        reader.feed(data)
        commands = []
        try:
            while (command := reader.next_command()) is not None:
                commands.append(command)
        except ProtocolError as exc:
            return commands, exc.message
        return commands, None

    fast = outcome(RequestReader())
    careful_reader = RequestReader()
    monkeypatch.setattr(careful_reader, "_parse_ahead", lambda: None)
    monkeypatch.setattr(careful_reader, "_plain_commands", lambda view: None)
    assert fast == outcome(careful_reader)


def test_a_command_boundary_at_the_end_of_an_argument_is_not_the_end_of_a_command():
    # After "*2 $4 ECHO" the buffer ends where an argument ends, not a command.
    reader = RequestReader()
    reader.feed(b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n")
    assert reader.next_command() == [b"PING"]
    assert reader.next_command() is None
    reader.feed(b"$2\r\nhi\r\n*1\r\n$4\r\nPING\r\n")
    assert read_all(reader) == [[b"ECHO", b"hi"], [b"PING"]]


def test_a_consumer_may_take_parsed_ahead_commands_from_ready():
    reader = RequestReader()
    reader.feed(encode_pipeline([[b"GET", b"a"], [b"GET", b"b"]]))
    assert reader.buffered > 0
    assert reader.ready.popleft() == [b"GET", b"a"]
    assert reader.buffered > 0  # one parsed command is still held
    assert reader.ready.popleft() == [b"GET", b"b"]
    assert reader.buffered == 0
    assert reader.next_command() is None
    # Later bytes are counted afresh, not on top of what was taken.
    reader.feed(b"*1\r\n$4\r\nPI")
    assert reader.buffered == len(b"*1\r\n$4\r\nPI")
    reader.feed(b"NG\r\n")
    assert reader.next_command() == [b"PING"]
    assert reader.buffered == 0


def test_requiring_auth_rechecks_ready_commands_in_the_same_deque():
    reader = RequestReader()
    ready = reader.ready
    reader.feed(encode_pipeline([[b"RESET"], [b"x"] * 11, [b"PING"]]))
    assert ready.popleft() == [b"RESET"]
    reader.auth_required = True  # what RESET does when a password is set
    assert reader.ready is ready and not ready
    with pytest.raises(ProtocolError, match="unauthenticated multibulk length"):
        reader.next_command()
