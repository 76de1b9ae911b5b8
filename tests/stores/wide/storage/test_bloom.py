"""The bloom filter never forgets a key and keeps near its false-positive chance."""

from stores.wide.storage.bloom import BloomFilter


def test_no_false_negatives_and_fp_rate_near_target():
    bloom = BloomFilter.for_keys(5000, 0.01)
    for i in range(5000):
        bloom.add(b"key-%d" % i)
    assert all(bloom.may_contain(b"key-%d" % i) for i in range(5000))
    false_positives = sum(bloom.may_contain(b"other-%d" % i) for i in range(20000))
    # Expected about 200 (1%); the bound leaves room for chance, not for a broken filter.
    assert false_positives < 400
    assert 0.005 < bloom.expected_fp_chance() < 0.02


def test_serialisation_round_trip():
    bloom = BloomFilter.for_keys(10, 0.1)
    bloom.add(b"a")
    again = BloomFilter.from_bytes(bloom.to_bytes())
    assert again.may_contain(b"a")
    assert (again.bits, again.hashes, again.count) == (bloom.bits, bloom.hashes, 1)


def test_higher_fp_chance_means_smaller_filter():
    assert BloomFilter.for_keys(1000, 0.1).bits < BloomFilter.for_keys(1000, 0.001).bits
