"""The compaction executor runs work on its own thread until none is left."""

import threading

from stores.wide.storage.compaction.executor import CompactionExecutor, Throttle


def test_runs_until_run_once_reports_no_work_and_survives_failures():
    calls = []
    lock = threading.Lock()
    work = [True, True, "boom", False]

    def run_once():
        with lock:
            item = work.pop(0) if work else False
            calls.append(item)
        if item == "boom":
            raise RuntimeError("disk full")
        return item

    executor = CompactionExecutor(run_once)
    executor.wake()
    assert executor.wait_idle(5)
    executor.wake()
    assert executor.wait_idle(5)
    executor.stop()
    assert calls[:3] == [True, True, "boom"]
    assert executor.failures == ["RuntimeError: disk full"]


def test_unlimited_throttle_never_sleeps():
    throttle = Throttle(0)
    throttle.consume(10**12)
    assert throttle.rate == 0
