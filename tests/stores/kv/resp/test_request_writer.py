"""encode_command: what clients send, read back by RequestReader."""

import pytest

from stores.kv.resp import RequestReader, encode_command, encode_pipeline


def test_encode_command():
    assert encode_command([b"SET", "ké", 5, 1.5]) == (
        b"*4\r\n$3\r\nSET\r\n$3\r\nk\xc3\xa9\r\n$1\r\n5\r\n$3\r\n1.5\r\n"
    )


def test_encode_pipeline_round_trips_through_the_request_reader():
    commands = [[b"SET", b"k", b"\r\n"], [b"GET", b"k"], [b"PING"]]
    reader = RequestReader()
    reader.feed(encode_pipeline(commands))
    assert [reader.next_command() for _ in commands] == commands


@pytest.mark.parametrize("bad", [True, object(), None])
def test_bad_arguments_are_refused(bad):
    with pytest.raises(TypeError):
        encode_command([b"SET", b"k", bad])
