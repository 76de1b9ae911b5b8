"""stores.clients: one clear error per bad setting, handles for good ones."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from stores import clients
from tests.support.ports import free_port


@pytest.fixture(autouse=True)
def fresh_handles():
    clients.reset()
    yield
    clients.reset()


def test_unknown_scheme_is_reported_at_validation(settings):
    settings.KV_URL = "memcached://127.0.0.1:11211"
    with pytest.raises(
        ImproperlyConfigured, match=r"KV_URL='memcached://127.0.0.1:11211': unknown scheme"
    ):
        clients.validate_settings()


def test_malformed_wide_url_is_reported(settings):
    settings.WIDE_URL = "cassandra://h1:0/blog"
    with pytest.raises(ImproperlyConfigured, match=r"WIDE_URL='cassandra://h1:0/blog': bad port"):
        clients.validate_settings()


def test_unreachable_redis_names_setting_and_value(settings):
    url = f"redis://127.0.0.1:{free_port()}/0"
    settings.KV_URL = url
    with pytest.raises(ImproperlyConfigured) as info:
        clients.check_reachable()
    assert str(info.value).startswith(f"KV_URL={url!r}: cannot reach the store")


def test_unreachable_cassandra_names_setting_and_value(settings):
    url = f"cassandra://127.0.0.1:{free_port()}/blog"
    settings.WIDE_URL = url
    with pytest.raises(ImproperlyConfigured) as info:
        clients.check_reachable()
    assert str(info.value).startswith(f"WIDE_URL={url!r}: cannot reach the store")


@pytest.mark.redis_server
def test_reachable_redis_gives_a_redis_py_handle(settings, redis_server):
    settings.KV_URL = redis_server.url
    clients.check_reachable()
    handle = clients.kv()
    assert handle is clients.kv()
    handle.set("kvsite:test", "1")
    assert handle.get("kvsite:test") == b"1"


def test_embedded_data_directory_is_created(settings, tmp_path):
    settings.KV_URL = f"embedded:{tmp_path / 'kv'}"
    settings.WIDE_URL = f"embedded:{tmp_path / 'wide'}"
    clients.check_reachable()
    assert (tmp_path / "kv").is_dir()
    assert (tmp_path / "wide").is_dir()


def test_unwritable_embedded_directory_is_reported(settings, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    settings.KV_URL = f"embedded:{blocker}/kv"
    with pytest.raises(ImproperlyConfigured, match="KV_URL=.*cannot create data directory"):
        clients.check_reachable()


def test_embedded_key_value_store_survives_a_restart(settings, tmp_path):
    settings.KV_URL = f"embedded:{tmp_path / 'kv'}"
    clients.kv().set("session:restart", "kept")
    clients.kv().zincrby("board", 3, "post:1")
    clients.reset()
    handle = clients.kv()
    assert handle.get("session:restart") == b"kept"
    assert handle.zscore("board", "post:1") == 3.0
    assert (tmp_path / "kv" / "appendonlydir").is_dir()


def test_embedded_data_directory_is_owned_by_one_handle(settings, tmp_path):
    from stores import kv as kv_engine

    settings.KV_URL = f"embedded:{tmp_path / 'kv'}"
    clients.kv()
    with pytest.raises(Exception, match="locked by process"):
        kv_engine.connect(str(tmp_path / "kv"))
