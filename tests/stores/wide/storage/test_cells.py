"""Last-write-wins reconciliation, Cassandra's tie rules."""

from stores.wide.storage.cells import (
    NO_DELETION,
    Cell,
    DeletionTime,
    LivenessInfo,
    expired_as_tombstone,
    max_deletion,
    reconcile,
)


def test_higher_timestamp_wins_whatever_the_value():
    old = Cell(b"zzz", 1)
    new = Cell(b"aaa", 2)
    assert reconcile(old, new) is new
    assert reconcile(new, old) is new


def test_tombstone_wins_a_timestamp_tie():
    live = Cell(b"v", 5)
    dead = Cell(None, 5, 0, 100)
    assert reconcile(live, dead) is dead
    assert reconcile(dead, live) is dead


def test_greater_value_wins_a_tie_between_live_cells():
    a = Cell(b"a", 5)
    b = Cell(b"b", 5)
    assert reconcile(a, b) is b
    assert reconcile(b, a) is b


def test_later_expiry_breaks_a_tie_of_equal_values():
    short = Cell(b"v", 5, 10, 1000)
    long_ = Cell(b"v", 5, 20, 2000)
    assert reconcile(short, long_) is long_
    assert reconcile(long_, short) is long_


def test_reconcile_with_none():
    cell = Cell(b"v", 1)
    assert reconcile(None, cell) is cell
    assert reconcile(cell, None) is cell


def test_ttl_cell_liveness_and_expiry_as_tombstone():
    cell = Cell(b"v", 7, ttl=10, local_deletion_time=1010)
    assert cell.is_live(1009)
    assert not cell.is_live(1010)
    dead = expired_as_tombstone(cell, 1010)
    assert dead.value is None and dead.timestamp == 7
    # gc grace counts from the write (expiry - ttl), as in Cassandra.
    assert dead.local_deletion_time == 1000
    assert expired_as_tombstone(cell, 1009) is cell
    assert Cell(b"v", 1).local_deletion_time == NO_DELETION


def test_deletion_shadows_equal_and_older_timestamps():
    deletion = DeletionTime(10, 0)
    assert deletion.deletes(10)
    assert deletion.deletes(9)
    assert not deletion.deletes(11)


def test_deletion_supersedes_by_timestamp_then_local_time():
    assert DeletionTime(5, 0).supersedes(DeletionTime(4, 100))
    assert DeletionTime(5, 2).supersedes(DeletionTime(5, 1))
    assert max_deletion(None, DeletionTime(1, 1)) == DeletionTime(1, 1)


def test_liveness_supersedes():
    assert LivenessInfo(2).supersedes(LivenessInfo(1))
    # On a tie a marker without TTL wins over an expiring one.
    assert LivenessInfo(2).supersedes(LivenessInfo(2, 10, 100))
    assert LivenessInfo(2, 10, 200).supersedes(LivenessInfo(2, 10, 100))
    assert LivenessInfo(5, 10, 100).is_live(99) and not LivenessInfo(5, 10, 100).is_live(100)
