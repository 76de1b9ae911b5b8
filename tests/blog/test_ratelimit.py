"""The comment rate limit in the key-value store."""

from blog import ratelimit
from stores import clients


def test_limit_counts_per_subject_and_expires_with_its_window(stores):
    results = [ratelimit.hit("comment", "7", 3, 60)[0] for _ in range(5)]
    assert results == [True, True, True, False, False]
    assert ratelimit.hit("comment", "8", 3, 60)[0] is True
    keys = list(clients.kv().scan_iter(match="ratelimit:comment:7:*"))
    assert len(keys) == 1
    assert 0 < clients.kv().ttl(keys[0]) <= 61


def test_retry_after_is_within_the_window(stores):
    allowed, retry_after = ratelimit.hit("comment", "9", 1, 30)
    assert allowed
    assert 0 < retry_after <= 30
