"""ReplyReader: the client-side parser of RESP2 and RESP3 replies."""

import math

import pytest

from stores.kv.replies import NULL_ARRAY, ErrorReply, Map, Push, SetReply, SimpleString, Verbatim
from stores.kv.resp import NEED_DATA, ProtocolError, ReplyReader, encode_reply


def read_all(data: bytes) -> list:
    reader = ReplyReader()
    reader.feed(data)
    replies = []
    while (reply := reader.next_reply()) is not NEED_DATA:
        replies.append(reply)
    return replies


def test_resp3_values_round_trip():
    value = [
        b"bulk",
        SimpleString("OK"),
        ErrorReply("WRONGTYPE Operation against a key holding the wrong kind of value"),
        42,
        None,
        1.25,
        Map({b"k": [b"v", 1], b"n": None}),
        SetReply([b"a", b"b"]),
        [],
        Map(),
    ]
    assert read_all(encode_reply(value, 3)) == [value]
    assert read_all(encode_reply(Push([b"message", b"c", b"m"]), 3)) == [
        Push([b"message", b"c", b"m"])
    ]


def test_types_are_preserved():
    (reply,) = read_all(encode_reply([SetReply([b"a"]), Map({b"x": 1}), SimpleString("OK")], 3))
    assert type(reply[0]) is SetReply
    assert type(reply[1]) is Map
    assert type(reply[2]) is SimpleString
    (push,) = read_all(b">1\r\n$1\r\nx\r\n")
    assert type(push) is Push


def test_nulls():
    assert read_all(b"$-1\r\n*-1\r\n_\r\n") == [None, NULL_ARRAY, None]
    assert read_all(b"*-1\r\n")[0] is NULL_ARRAY


def test_resp3_scalars():
    replies = read_all(
        b"#t\r\n#f\r\n(3492890328409238509324850943850943825024385\r\n,inf\r\n,-inf\r\n"
        b",nan\r\n!21\r\nSYNTAX invalid syntax\r\n=15\r\ntxt:Some string\r\n"
    )
    assert replies[:3] == [True, False, 3492890328409238509324850943850943825024385]
    assert replies[3] == math.inf and replies[4] == -math.inf and math.isnan(replies[5])
    assert replies[6] == ErrorReply("SYNTAX invalid syntax")
    assert isinstance(replies[7], Verbatim)
    assert (replies[7].text, replies[7].fmt) == (b"Some string", "txt")


def test_attributes_are_dropped():
    data = (
        b"|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*2\r\n:2\r\n|1\r\n+x\r\n:1\r\n:3\r\n"
    )
    assert read_all(data) == [[2, 3]]


def test_map_with_unhashable_keys():
    assert read_all(b"%1\r\n*1\r\n:1\r\n:2\r\n") == [Map({(1,): 2})]


def test_every_byte_boundary():
    data = encode_reply([b"a\r\nb", 1, [Map({b"k": 1.5})], None, SetReply([b"x"])], 3) * 2
    expected = read_all(data)
    assert len(expected) == 2
    for cut in range(1, len(data)):
        reader = ReplyReader()
        got = []
        for piece in (data[:cut], data[cut:]):
            reader.feed(piece)
            while (reply := reader.next_reply()) is not NEED_DATA:
                got.append(reply)
        assert got == expected, cut


def test_large_bulk_in_chunks():
    value = b"x" * 300000
    data = encode_reply([value, value], 2)
    reader = ReplyReader()
    for i in range(0, len(data), 4096):
        reader.feed(data[i : i + 4096])
        if i + 4096 < len(data):
            assert reader.next_reply() is NEED_DATA
    assert reader.next_reply() == [value, value]


@pytest.mark.parametrize("data", [b"?1\r\n", b":x\r\n", b",abc\r\n", b"#x\r\n", b"$x\r\n"])
def test_malformed_replies_raise_protocol_error(data):
    with pytest.raises(ProtocolError):
        read_all(data)
