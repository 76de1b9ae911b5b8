"""stores.tracing: proxies that record commands without changing them."""

import pytest

from stores import tracing


class FakeRedisLike:
    """Just enough of redis-py's shape to watch the proxy pass calls through."""

    def __init__(self):
        self.data = {}

    def get(self, key):
        return self.data.get(key)

    def set(self, key, value, ex=None):
        self.data[key] = value
        return True

    def hgetall(self, key):
        raise RuntimeError("WRONGTYPE Operation against a key holding the wrong kind of value")

    def pipeline(self, transaction=True):
        return FakePipeline(self)


class FakePipeline:
    def __init__(self, owner):
        self.owner, self.calls = owner, []

    def incr(self, key):
        self.calls.append(("incr", key))
        return self

    def expire(self, key, seconds):
        self.calls.append(("expire", key))
        return self

    def execute(self):
        calls, self.calls = self.calls, []
        return [1 for _ in calls]

    def __len__(self):
        return len(self.calls)


class FakeSession:
    def __init__(self):
        self.keyspace = "blog"

    def execute(self, query, parameters=None, paging_state=None):
        if "boom" in str(query):
            raise RuntimeError("Invalid query")
        return FakeResult([("row",)] * 3)

    def prepare(self, query):
        return f"prepared:{query}"


class FakeResult:
    def __init__(self, rows):
        self.current_rows = rows


def test_no_trace_means_plain_pass_through():
    kv = tracing.TracedKV(FakeRedisLike(), "main", "fake")
    assert kv.set("a", b"1") is True
    assert kv.get("a") == b"1"
    assert tracing.current() is None


def test_kv_commands_are_recorded_with_outcome():
    kv = tracing.TracedKV(FakeRedisLike(), "main", "fake")
    with tracing.tracing() as trace:
        kv.set("page:1", b"x" * 500, ex=60)
        kv.get("page:1")
        kv.get("absent")
    texts = [e.text for e in trace.events]
    assert texts[0].startswith("SET page:1 xxxx") and texts[0].endswith("ex=60")
    assert len(texts[0]) < 120
    assert [e.outcome for e in trace.events[1:]] == ["value", "nil"]
    assert trace.count("kv") == 3 and trace.total_seconds("kv") >= 0


def test_kv_errors_are_recorded_and_reraised_unchanged():
    kv = tracing.TracedKV(FakeRedisLike(), "main", "fake")
    with tracing.tracing() as trace:
        with pytest.raises(RuntimeError, match="WRONGTYPE") as info:
            kv.hgetall("k")
    assert trace.events[0].failed
    assert trace.is_store_error(info.value)
    wrapped = ValueError("outer")
    wrapped.__cause__ = info.value
    assert trace.is_store_error(wrapped)
    assert not trace.is_store_error(ValueError("unrelated"))


def test_pipeline_is_one_event():
    kv = tracing.TracedKV(FakeRedisLike(), "main", "fake")
    with tracing.tracing() as trace:
        pipe = kv.pipeline()
        pipe.incr("n").expire("n", 10)
        assert pipe.execute() == [1, 1]
    assert len(trace.events) == 1
    assert trace.events[0].text == "PIPELINE INCR n | EXPIRE n 10"


def test_cql_statements_are_recorded():
    session = tracing.TracedSession(FakeSession(), "main", "fake")
    with tracing.tracing() as trace:
        prepared = session.prepare("SELECT * FROM blog.posts WHERE post_id = ?")
        session.execute("SELECT   *\n FROM t", None, paging_state=b"x")
        session.execute("UPDATE t SET v = 1 WHERE k = 2")
        with pytest.raises(RuntimeError):
            session.execute("boom")
    assert prepared == "prepared:SELECT * FROM blog.posts WHERE post_id = ?"
    assert [e.text for e in trace.events] == [
        "PREPARE SELECT * FROM blog.posts WHERE post_id = ?",
        "SELECT * FROM t  [from paging state]",
        "UPDATE t SET v = 1 WHERE k = 2",
        "boom",
    ]
    assert [e.outcome for e in trace.events[1:3]] == ["3 rows", "done"]
    assert trace.events[3].failed
    assert session.keyspace == "blog"


def test_event_cap_counts_the_rest():
    kv = tracing.TracedKV(FakeRedisLike(), "main", "fake")
    with tracing.tracing() as trace:
        for _ in range(tracing.MAX_EVENTS + 7):
            kv.get("k")
    assert len(trace.events) == tracing.MAX_EVENTS
    assert trace.dropped == 7


def test_kv_get_formats_only_when_read():
    from stores.kv.replies import ErrorReply

    hit = tracing.KVGet("pages", "page:1:" + "k" * 100, 0.002, b"v")
    assert (hit.store, hit.label, hit.failed, hit.milliseconds) == ("kv", "pages", False, 2.0)
    assert hit.text == tracing._command_text("get", (hit.key,), {}) and hit.text.endswith("…")
    assert hit.outcome == "value"
    assert tracing.KVGet("pages", "k", 0.0, None).outcome == "nil"
    failed = tracing.KVGet("pages", "k", 0.0, ErrorReply("WRONGTYPE no"), failed=True)
    assert failed.failed and failed.outcome == "WRONGTYPE no"
    assert tracing.new_kv_get(("pages", "k", 0.0, b"v", False)) == tracing.KVGet(
        "pages", "k", 0.0, b"v"
    )


def test_command_text_escapes_bytes_a_page_cannot_show():
    text = tracing._command_text("set", (b"page:1", b"WP1\x00\x01\xff<html>\n"), {})
    assert text == "SET page:1 WP1\\x00\\x01\\xff<html>\\n"
    assert text.isprintable()


def test_command_text_keeps_printable_unicode():
    assert (
        tracing._command_text("get", ("caf\u00e9 \u2603".encode(),), {}) == "GET caf\u00e9 \u2603"
    )


def test_tracing_scopes_nest_and_restore_the_outer_trace_on_errors():
    with tracing.tracing() as outer:
        with pytest.raises(ValueError):
            with tracing.tracing() as inner:
                assert tracing.current() is inner
                raise ValueError("boom")
        assert tracing.current() is outer and inner is not outer
    assert tracing.current() is None


def test_cache_notes_read_as_fields_and_compare_as_tuples():
    trace = tracing.Trace()
    trace.note_cache("page:1", True, "whole front page")
    note = trace.cache_notes[0]
    assert (note.key, note.hit, note.what) == ("page:1", True, "whole front page")
    assert note == ("page:1", True, "whole front page")
    assert note == tracing.CacheNote("page:1", True, "whole front page")
    assert "whole front page" in repr(note)


@pytest.mark.parametrize(
    ("args", "text"),
    [(("k", 1), "INCRBY k 1"), (("k", 1.0), "INCRBY k 1.0"), (("k", True), "INCRBY k True")],
)
def test_remembered_command_texts_tell_equal_values_of_other_types_apart(args, text):
    for _ in range(2):
        assert tracing.command_text("incrby", args, {}) == text


def test_command_texts_match_the_plain_formatting():
    cases = [
        ("set", ("k", b"v" * 500), {"ex": 60}),
        ("hset", ("h",), {"mapping": {"a": 1, "b": 2}}),
        ("zadd", ("z", {"m": 1.5}), {"gt": True}),
        ("delete", tuple(f"k{i}" for i in range(9)), {}),
        ("get", ("a\x00b",), {}),
    ]
    for name, args, kwargs in cases:
        assert tracing.command_text(name, args, kwargs) == tracing._command_text(name, args, kwargs)


def test_large_or_mutable_arguments_are_never_remembered():
    tracing._command_texts.clear()
    tracing.command_text("set", ("k", b"x" * (tracing.MEMO_ARG_CHARS + 1)), {})
    tracing.command_text("rpush", ("k", ["a", "b"]), {})
    tracing.command_text("hset", ("h",), {"mapping": {"a": 1}})
    assert tracing._command_texts == {}
    tracing.command_text("incr", ("k",), {})
    assert len(tracing._command_texts) == 1


def test_the_command_memo_is_bounded(monkeypatch):
    monkeypatch.setattr(tracing, "TEXT_MEMO_SIZE", 3)
    tracing._command_texts.clear()
    for i in range(10):
        assert tracing.command_text("get", (f"k{i}",), {}) == f"GET k{i}"
    assert len(tracing._command_texts) <= 3


def test_a_pipeline_keeps_its_calls_and_formats_them_when_read():
    kv = tracing.TracedKV(FakeRedisLike(), "main", "fake")
    with tracing.tracing() as trace:
        pipe = kv.pipeline()
        assert pipe.incr is pipe.incr  # the wrapper is made once per pipeline
        pipe.incr("n").expire("n", 10)
        pipe.execute()
        pipe.incr("m")
        pipe.execute()
    first, second = trace.events
    assert isinstance(first, tracing.KVPipeline)
    assert first.commands == [("incr", ("n",), {}), ("expire", ("n", 10), {})]
    assert first.text == "PIPELINE INCR n | EXPIRE n 10" and first.outcome == "2 replies"
    assert second.text == "PIPELINE INCR m" and not second.failed
    assert "PIPELINE INCR m" in repr(second)


def test_a_failed_pipeline_is_recorded_and_reraised():
    class Broken(FakePipeline):
        def execute(self):
            raise RuntimeError("EXECABORT")

    class Owner(FakeRedisLike):
        def pipeline(self, transaction=True):
            return Broken(self)

    kv = tracing.TracedKV(Owner(), "main", "fake")
    with tracing.tracing() as trace:
        pipe = kv.pipeline()
        pipe.incr("n")
        with pytest.raises(RuntimeError) as info:
            pipe.execute()
    (event,) = trace.events
    assert event.failed and event.outcome == "EXECABORT" and event.text == "PIPELINE INCR n"
    assert trace.is_store_error(info.value)


def test_a_long_pipeline_shows_its_first_commands():
    kv = tracing.TracedKV(FakeRedisLike(), "main", "fake")
    with tracing.tracing() as trace:
        pipe = kv.pipeline()
        for i in range(tracing.MAX_ARGS_SHOWN + 2):
            pipe.incr(f"k{i}")
        pipe.execute()
    assert trace.events[0].text.endswith("| INCR k5 | (+2 more)")


def test_statement_texts_are_remembered_on_one_line():
    first = tracing.statement_text("SELECT  *\n FROM t")
    assert first == ("SELECT * FROM t", True)
    assert tracing.statement_text("SELECT  *\n FROM t") is first
    assert tracing.statement_text("update t set v = 1") == ("update t set v = 1", False)


def test_keyword_values_of_other_types_are_told_apart_too():
    assert tracing.command_text("set", ("k", "v"), {"ex": 1}) == "SET k v ex=1"
    assert tracing.command_text("set", ("k", "v"), {"ex": True}) == "SET k v ex=True"
    assert tracing.command_text("set", ("k", "v"), {"px": 1}) == "SET k v px=1"


def test_pipeline_texts_are_remembered_whole_and_match_the_plain_formatting():
    tracing._pipeline_texts.clear()
    commands = [("incr", ("n",), {}), ("expire", ("n", 10), {})]
    first = tracing.pipeline_text(commands)
    assert first == "PIPELINE INCR n | EXPIRE n 10"
    assert tracing.pipeline_text([("incr", ("n",), {}), ("expire", ("n", 10), {})]) is first
    assert tracing.pipeline_text([("incr", ("n",), {}), ("expire", ("n", 10.0), {})]) == (
        "PIPELINE INCR n | EXPIRE n 10.0"
    )
    bulky = [("set", ("k", b"x" * 500), {}), ("hset", ("h",), {"mapping": {"a": 1}})]
    text = tracing.pipeline_text(bulky)
    assert text.startswith("PIPELINE SET k xxx") and "mapping={'a': 1}" in text
    assert len(tracing._pipeline_texts) == 2
