"""encode_reply: every reply value of the contract in RESP2 and RESP3."""

import pytest

from stores.kv.replies import (
    NULL_ARRAY,
    OK,
    ErrorReply,
    Map,
    Push,
    SetReply,
    SimpleString,
    Verbatim,
)
from stores.kv.resp import encode_reply, reply_encoder
from stores.kv.resp.reply_writer import OK_REPLY, SMALL_INTEGER_REPLIES

CASES = [
    # value, RESP2, RESP3
    (b"abc", b"$3\r\nabc\r\n", b"$3\r\nabc\r\n"),
    (b"", b"$0\r\n\r\n", b"$0\r\n\r\n"),
    (b"a\r\nb", b"$4\r\na\r\nb\r\n", b"$4\r\na\r\nb\r\n"),
    (SimpleString("OK"), b"+OK\r\n", b"+OK\r\n"),
    (ErrorReply("ERR syntax error"), b"-ERR syntax error\r\n", b"-ERR syntax error\r\n"),
    (0, b":0\r\n", b":0\r\n"),
    (-1, b":-1\r\n", b":-1\r\n"),
    (1023, b":1023\r\n", b":1023\r\n"),
    (-(2**63), b":-9223372036854775808\r\n", b":-9223372036854775808\r\n"),
    (None, b"$-1\r\n", b"_\r\n"),
    (NULL_ARRAY, b"*-1\r\n", b"_\r\n"),
    ([], b"*0\r\n", b"*0\r\n"),
    ([b"a", 1, None], b"*3\r\n$1\r\na\r\n:1\r\n$-1\r\n", b"*3\r\n$1\r\na\r\n:1\r\n_\r\n"),
    ([[b"x"], []], b"*2\r\n*1\r\n$1\r\nx\r\n*0\r\n", b"*2\r\n*1\r\n$1\r\nx\r\n*0\r\n"),
    (1.5, b"$3\r\n1.5\r\n", b",1.5\r\n"),
    (1.1, b"$18\r\n1.1000000000000001\r\n", b",1.1000000000000001\r\n"),
    (3.0, b"$1\r\n3\r\n", b",3\r\n"),
    (float("inf"), b"$3\r\ninf\r\n", b",inf\r\n"),
    (float("-inf"), b"$4\r\n-inf\r\n", b",-inf\r\n"),
    (1e300, b"$23\r\n1.0000000000000001e+300\r\n", b",1.0000000000000001e+300\r\n"),
    (
        Map({b"a": 1, b"b": [b"c"]}),
        b"*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n*1\r\n$1\r\nc\r\n",
        b"%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n*1\r\n$1\r\nc\r\n",
    ),
    (SetReply([b"a"]), b"*1\r\n$1\r\na\r\n", b"~1\r\n$1\r\na\r\n"),
    (
        Push([b"message", b"ch", b"hi"]),
        b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
        b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
    ),
    (Verbatim(b"# Server\r\n"), b"$10\r\n# Server\r\n\r\n", b"=14\r\ntxt:# Server\r\n\r\n"),
    (True, b":1\r\n", b"#t\r\n"),
    (False, b":0\r\n", b"#f\r\n"),
]


@pytest.mark.parametrize("value, resp2, resp3", CASES)
def test_encode_reply(value, resp2, resp3):
    assert encode_reply(value, 2) == resp2
    assert encode_reply(value, 3) == resp3
    assert reply_encoder(2)(value) == resp2
    assert reply_encoder(3)(value) == resp3


def test_errors_and_statuses_never_break_the_framing():
    assert encode_reply(ErrorReply("ERR bad\r\nthing")) == b"-ERR bad  thing\r\n"
    assert encode_reply(SimpleString("a\nb")) == b"+a b\r\n"


def test_error_message_with_surrogate_escapes_becomes_the_original_byte():
    message = b"ERR got '\xc8'".decode("utf-8", "surrogateescape")
    assert encode_reply(ErrorReply(message)) == b"-ERR got '\xc8'\r\n"


def test_subclasses_and_plain_python_values():
    class MyBytes(bytes):
        pass

    assert encode_reply(MyBytes(b"x")) == b"$1\r\nx\r\n"
    assert encode_reply("é") == b"$2\r\n\xc3\xa9\r\n"
    assert encode_reply((b"a",)) == b"*1\r\n$1\r\na\r\n"
    assert encode_reply({b"k": b"v"}, 3) == b"%1\r\n$1\r\nk\r\n$1\r\nv\r\n"
    with pytest.raises(TypeError):
        encode_reply(object())


def test_lone_surrogates_are_escaped_not_fatal():
    assert encode_reply(SimpleString("\ud800")) == b"+\\ud800\r\n"
    assert encode_reply(ErrorReply("ERR \ud800")) == b"-ERR \\ud800\r\n"


@pytest.mark.parametrize("protocol", [2, 3])
def test_precomputed_replies_are_what_the_encoder_writes(protocol):
    assert OK_REPLY == encode_reply(OK, protocol)
    for value in (0, 1, 1023, 1024, 9999):
        assert SMALL_INTEGER_REPLIES[value] == encode_reply(value, protocol)
    assert len(SMALL_INTEGER_REPLIES) == 10000
