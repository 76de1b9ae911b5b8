"""The AOF reader: round trips, truncated tails recovered, corruption located."""

import io
import logging

import pytest

from stores.kv.persistence.aof_reader import ParsedFile, classify_tail, iter_commands, replay_file
from stores.kv.persistence.aof_writer import encode_command
from stores.kv.persistence.errors import CorruptFileError, ReplayRefusedError
from stores.kv.persistence.fs import FaultInjectingFileSystem

COMMANDS = [
    [b"SELECT", b"0"],
    [b"SET", b"k", b"v"],
    [b"RPUSH", b"list", b"a", b"", b"c\r\n"],
    [b"SELECT", b"2"],
    [b"SET", b"big", b"x" * 5000],
    [b"DEL", b"k"],
]


def aof_bytes(commands=COMMANDS):
    return b"".join(encode_command(c) for c in commands)


def parse(data, chunk=None):
    result = ParsedFile(0, 0)
    return list(iter_commands(io.BytesIO(data), "f.aof", result)), result


def test_round_trip_with_offsets():
    data = aof_bytes()
    commands, result = parse(data)
    assert [argv for _, argv in commands] == COMMANDS
    offsets = [offset for offset, _ in commands]
    assert offsets[0] == 0
    assert offsets[1] == len(encode_command(COMMANDS[0]))
    assert result.valid_end == result.size == len(data)


def test_round_trip_across_read_chunks(monkeypatch):
    from stores.kv.persistence import aof_reader

    monkeypatch.setattr(aof_reader, "CHUNK", 7)
    commands, result = parse(aof_bytes())
    assert [argv for _, argv in commands] == COMMANDS
    assert not result.truncated


class Recorder:
    def __init__(self):
        self.applied = []

    def __call__(self, db, argv):
        if argv[0] == b"BOOM":
            raise ReplayRefusedError("ERR unknown command 'BOOM'")
        self.applied.append((db, argv))


def write(fs, data):
    fs.makedirs("/d")
    fs.write_bytes("/d/a.aof", data)


def test_replay_tracks_select_and_applies_in_order():
    fs = FaultInjectingFileSystem()
    write(fs, aof_bytes())
    apply = Recorder()
    assert replay_file(fs, "/d/a.aof", apply, last=True) == len(COMMANDS)
    assert apply.applied == [
        (0, COMMANDS[1]),
        (0, COMMANDS[2]),
        (2, COMMANDS[4]),
        (2, COMMANDS[5]),
    ]


def test_truncated_tail_at_every_offset_recovers_the_prefix(caplog):
    whole = aof_bytes(COMMANDS[:3])
    last = encode_command([b"SET", b"tail", b"value"])
    for cut in range(len(last)):
        fs = FaultInjectingFileSystem()
        write(fs, whole + last[:cut])
        apply = Recorder()
        with caplog.at_level(logging.WARNING, logger="stores.kv.persistence"):
            caplog.clear()
            replay_file(fs, "/d/a.aof", apply, last=True)
        assert apply.applied == [(0, COMMANDS[1]), (0, COMMANDS[2])], cut
        assert fs.read_bytes("/d/a.aof") == whole, cut
        if cut:
            assert "truncating" in caplog.text and str(len(whole)) in caplog.text
        else:
            assert "truncating" not in caplog.text


def test_truncated_tail_of_a_file_that_is_not_the_last_is_corruption():
    fs = FaultInjectingFileSystem()
    write(fs, aof_bytes() + b"*2\r\n$3\r\nDEL")
    with pytest.raises(CorruptFileError) as info:
        replay_file(fs, "/d/a.aof", Recorder(), last=False)
    assert info.value.offset == len(aof_bytes())


def test_unfinished_multi_is_dropped_whole():
    head = aof_bytes(COMMANDS[:2])
    tx = aof_bytes([[b"MULTI"], [b"SET", b"a", b"1"], [b"SET", b"b", b"2"]])
    fs = FaultInjectingFileSystem()
    write(fs, head + tx)
    apply = Recorder()
    replay_file(fs, "/d/a.aof", apply, last=True)
    assert apply.applied == [(0, COMMANDS[1])]
    assert fs.read_bytes("/d/a.aof") == head


def test_finished_multi_is_applied():
    data = aof_bytes([[b"MULTI"], [b"SET", b"a", b"1"], [b"EXEC"]])
    fs = FaultInjectingFileSystem()
    write(fs, data)
    apply = Recorder()
    replay_file(fs, "/d/a.aof", apply, last=True)
    assert apply.applied == [(0, [b"SET", b"a", b"1"])]


def structural_offsets(command: bytes):
    """Offsets of the bytes RESP framing depends on (not argument payload)."""
    offsets = []
    pos = 0
    while pos < len(command):
        nl = command.index(b"\r\n", pos)
        offsets.extend(range(pos, nl + 2))  # "*n\r\n" or "$n\r\n"
        if command[pos : pos + 1] == b"$":
            length = int(command[pos + 1 : nl])
            end = nl + 2 + length
            offsets.extend([end, end + 1])
            pos = end + 2
        else:
            pos = nl + 2
    return offsets


@pytest.mark.parametrize("replacement", [b"X", b"\x00", b"7"])
def test_flipped_structural_byte_in_the_middle_names_file_and_offset(replacement):
    before = aof_bytes(COMMANDS[:2])
    middle = encode_command([b"SET", b"key", b"value"])
    after = aof_bytes(COMMANDS[2:])
    for i in structural_offsets(middle):
        if middle[i : i + 1] == replacement:
            continue
        damaged = before + middle[:i] + replacement + middle[i + 1 :] + after
        fs = FaultInjectingFileSystem()
        write(fs, damaged)
        with pytest.raises(CorruptFileError) as info:
            replay_file(fs, "/d/a.aof", Recorder(), last=True)
        error = info.value
        assert error.path == "/d/a.aof"
        assert len(before) <= error.offset < len(damaged), (i, error)
        assert "/d/a.aof" in str(error) and f"offset {error.offset}" in str(error)
        assert fs.read_bytes("/d/a.aof") == damaged  # never "repaired"


def test_garbage_in_the_middle_is_corruption_at_its_offset():
    data = aof_bytes(COMMANDS[:2]) + b"garbage!" + aof_bytes(COMMANDS[2:])
    fs = FaultInjectingFileSystem()
    write(fs, data)
    with pytest.raises(CorruptFileError) as info:
        replay_file(fs, "/d/a.aof", Recorder(), last=True)
    assert info.value.offset == len(aof_bytes(COMMANDS[:2]))


def test_garbage_at_the_tail_is_corruption_not_truncation():
    fs = FaultInjectingFileSystem()
    write(fs, aof_bytes() + b"\x00xyz")
    with pytest.raises(CorruptFileError):
        replay_file(fs, "/d/a.aof", Recorder(), last=True)


def test_command_the_engine_refuses_is_corruption_at_its_offset():
    head = aof_bytes(COMMANDS[:2])
    fs = FaultInjectingFileSystem()
    write(fs, head + encode_command([b"BOOM", b"x"]) + aof_bytes(COMMANDS[2:]))
    with pytest.raises(CorruptFileError, match="BOOM") as info:
        replay_file(fs, "/d/a.aof", Recorder(), last=True)
    assert info.value.offset == len(head)


@pytest.mark.parametrize(
    "data",
    [b"*0\r\n", b"*-1\r\n", b"*99999999999\r\n", b"*1\r\n$-5\r\n", b"*1\r\n$1\r\nab\r\n"],
)
def test_malformed_headers_are_corruption(data):
    fs = FaultInjectingFileSystem()
    write(fs, data + aof_bytes())
    with pytest.raises(CorruptFileError) as info:
        replay_file(fs, "/d/a.aof", Recorder(), last=True)
    assert info.value.offset < len(data)


def test_select_inside_multi_applies_to_the_queued_commands():
    data = aof_bytes(
        [
            [b"SELECT", b"1"],
            [b"MULTI"],
            [b"SET", b"a", b"1"],
            [b"SELECT", b"4"],
            [b"SET", b"b", b"2"],
            [b"EXEC"],
            [b"SET", b"c", b"3"],
        ]
    )
    fs = FaultInjectingFileSystem()
    write(fs, data)
    apply = Recorder()
    replay_file(fs, "/d/a.aof", apply, last=True)
    assert apply.applied == [
        (1, [b"SET", b"a", b"1"]),
        (4, [b"SET", b"b", b"2"]),
        (4, [b"SET", b"c", b"3"]),
    ]


def test_a_length_damaged_to_run_past_the_end_is_corruption_not_a_torn_tail():
    before = aof_bytes(COMMANDS[:2])
    damaged = (
        before + b"*3\r\n$3\r\nSET\r\n$9999\r\nkey\r\n$5\r\nvalue\r\n" + aof_bytes(COMMANDS[2:])
    )
    fs = FaultInjectingFileSystem()
    write(fs, damaged)
    with pytest.raises(CorruptFileError, match="damaged length") as info:
        replay_file(fs, "/d/a.aof", Recorder(), last=True)
    assert info.value.offset == len(before)
    assert fs.read_bytes("/d/a.aof") == damaged


def test_every_length_digit_damaged_upwards_is_never_a_silent_truncation():
    before = aof_bytes(COMMANDS[:2])
    middle = encode_command([b"SET", b"key", b"value"])
    after = aof_bytes(COMMANDS[2:])
    for i, byte in enumerate(middle):
        if not chr(byte).isdigit():
            continue
        damaged = before + middle[:i] + b"9" + middle[i + 1 :] + after
        if damaged == before + middle + after:
            continue
        fs = FaultInjectingFileSystem()
        write(fs, damaged)
        with pytest.raises(CorruptFileError):
            replay_file(fs, "/d/a.aof", Recorder(), last=True)


VALUE_WITH_RESP = b"x\r\n*1\r\n$4\r\nPING\r\n" * 4


def test_a_torn_tail_with_resp_inside_its_value_is_still_a_torn_tail():
    head = aof_bytes(COMMANDS[:2])
    whole = encode_command([b"SET", b"k", VALUE_WITH_RESP])
    cut = whole.index(b"PING") + 2  # inside the embedded "command"
    fs = FaultInjectingFileSystem()
    write(fs, head + whole[:cut])
    replay_file(fs, "/d/a.aof", Recorder(), last=True)
    assert fs.read_bytes("/d/a.aof") == head


def test_a_torn_tail_ending_exactly_after_resp_inside_its_value_is_refused():
    """The one ambiguous case is resolved on the safe side: nothing is cut."""
    head = aof_bytes(COMMANDS[:2])
    whole = encode_command([b"SET", b"k", VALUE_WITH_RESP])
    cut = whole.index(b"PING") + 6  # just after the embedded "*1 $4 PING"
    fs = FaultInjectingFileSystem()
    write(fs, head + whole[:cut])
    with pytest.raises(CorruptFileError, match="damaged length"):
        replay_file(fs, "/d/a.aof", Recorder(), last=True)
    assert fs.read_bytes("/d/a.aof") == head + whole[:cut]


def test_a_zero_filled_tail_is_a_torn_write():
    head = aof_bytes(COMMANDS[:3])
    fs = FaultInjectingFileSystem()
    write(fs, head + b"\x00" * 4096)
    apply = Recorder()
    replay_file(fs, "/d/a.aof", apply, last=True)
    assert len(apply.applied) == 2
    assert fs.read_bytes("/d/a.aof") == head


def uncommitted(argv):
    """Return a command as an interrupted mapped copy leaves it: all but its first byte."""
    return b"\0" + encode_command(argv)[1:]


@pytest.mark.parametrize(
    ("tail", "kind"),
    [
        (b"", "padding"),
        (b"\0" * 5000, "padding"),
        (uncommitted([b"SET", b"k", b"v"]), "torn"),
        (uncommitted([b"SET", b"k", b"v"]) + b"\0" * 100, "torn"),
        (uncommitted([b"SET", b"k", b"v"])[:9] + b"\0" * 100, "torn"),
        # the copy had reached the head and the end, not the middle
        (
            b"\0" + encode_command([b"SET", b"k", b"v" * 60])[1:40] + b"\0" * 20 + b"vvvv\r\n",
            "torn",
        ),
        (encode_command([b"SET", b"k", b"v"])[:-4] + b"\0" * 64, "torn"),
        (b"\0xyz", None),
        (b"xyz\0\0", None),
        # a whole command after an unmarked one: corruption, not a torn copy
        (uncommitted([b"SET", b"k", b"v"]) + encode_command([b"SET", b"k2", b"v"]), None),
        (b"\0" * 4096 + encode_command([b"SET", b"k2", b"v"]), None),
    ],
)
def test_classify_tail(tail, kind):
    assert classify_tail(tail) == kind


def test_padding_after_the_last_command_is_cut_quietly(caplog):
    fs = FaultInjectingFileSystem()
    write(fs, aof_bytes() + b"\0" * 8192)
    apply = Recorder()
    with caplog.at_level(logging.INFO, logger="stores.kv.persistence"):
        replay_file(fs, "/d/a.aof", apply, last=True)
    assert len(apply.applied) == 4
    assert fs.read_bytes("/d/a.aof") == aof_bytes()
    assert "preallocated" in caplog.text and not any(
        r.levelno >= logging.WARNING for r in caplog.records
    )


def test_an_interrupted_mapped_copy_is_cut_with_a_warning(caplog):
    fs = FaultInjectingFileSystem()
    write(fs, aof_bytes() + uncommitted([b"SET", b"half", b"v"]) + b"\0" * 8192)
    apply = Recorder()
    with caplog.at_level(logging.INFO, logger="stores.kv.persistence"):
        replay_file(fs, "/d/a.aof", apply, last=True)
    assert [argv for _, argv in apply.applied][-1] == [b"DEL", b"k"]
    assert fs.read_bytes("/d/a.aof") == aof_bytes()
    assert "partial write" in caplog.text


def test_padding_in_an_earlier_file_is_corruption():
    fs = FaultInjectingFileSystem()
    write(fs, aof_bytes() + b"\0" * 100)
    with pytest.raises(CorruptFileError):
        replay_file(fs, "/d/a.aof", Recorder(), last=False)


def test_a_lost_first_byte_before_more_commands_is_corruption():
    fs = FaultInjectingFileSystem()
    write(fs, aof_bytes(COMMANDS[:2]) + b"\0" + aof_bytes(COMMANDS[2:])[1:])
    with pytest.raises(CorruptFileError) as info:
        replay_file(fs, "/d/a.aof", Recorder(), last=True)
    assert info.value.offset == len(aof_bytes(COMMANDS[:2]))
