from stores.wide.auth import check_password, hash_password


def test_hash_and_check():
    salted = hash_password("secret", iterations=1000)
    assert salted.startswith("pbkdf2_sha256$1000$")
    assert check_password("secret", salted)
    assert not check_password("Secret", salted)


def test_salts_differ():
    assert hash_password("x", iterations=1000) != hash_password("x", iterations=1000)


def test_malformed_hash_never_matches():
    for bad in ("", "plain", "md5$1$a$b", "pbkdf2_sha256$x$y$z"):
        assert not check_password("x", bad)
