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


def test_authenticator_over_a_memory_engine():
    from stores.wide.auth import PasswordAuthenticator
    from stores.wide.storage import StorageEngine

    engine = StorageEngine.open(None)
    try:
        auth = PasswordAuthenticator(engine, iterations=1000)
        auth.setup()
        assert auth.authenticate("cassandra", "cassandra")
        assert auth.authenticate("cassandra", "cassandra")  # the cached path
        assert not auth.authenticate("cassandra", "wrong")
        assert not auth.authenticate("nobody", "cassandra")
        auth.create_role("ann", "pw1")
        assert auth.authenticate("ann", "pw1")
        auth.create_role("ann", "pw2")
        assert not auth.authenticate("ann", "pw1")
        assert auth.authenticate("ann", "pw2")
        auth.setup()  # idempotent: the default role keeps its password
        assert auth.authenticate("cassandra", "cassandra")
    finally:
        engine.close()
