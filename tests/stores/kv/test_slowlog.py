"""The slow log keeps a bounded number of trimmed entries."""

from stores.kv.slowlog import SlowLog


def test_bounded_and_newest_first():
    log = SlowLog(max_len=3)
    for i in range(5):
        log.add([b"SET", b"k%d" % i], 100 + i, b"peer", b"")
    entries = log.get(-1)
    assert len(entries) == 3
    assert [e[0] for e in entries] == [4, 3, 2]
    assert entries[0][3] == [b"SET", b"k4"]


def test_arguments_are_trimmed():
    log = SlowLog()
    log.add([b"X", b"a" * 500] + [b"y"] * 40, 1, b"", b"")
    argv = log.get(1)[0][3]
    assert len(argv) == 32
    assert argv[1].endswith(b"... (372 more bytes)")
    assert argv[-1] == b"... (11 more arguments)"
