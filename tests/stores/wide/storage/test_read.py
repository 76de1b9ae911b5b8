"""ReadTrace collects what a read did, as plain data for the admin pages."""

from stores.wide.storage.read import ReadTrace


def test_summary_is_plain_data():
    trace = ReadTrace()
    trace.skip("00000001", "bloom filter")
    trace.sstables_consulted.append("00000002")
    trace.cells_read += 3
    summary = trace.summary()
    assert summary["sstables_skipped"] == [["00000001", "bloom filter"]]
    assert summary["sstables_consulted"] == ["00000002"]
    assert summary["cells_read"] == 3 and summary["tombstones_read"] == 0
