"""The site skeleton: home page, WebSocket echo, deploy checks."""

import gc
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from channels.testing import WebsocketCommunicator

from kvsite.asgi import application

ROOT = Path(__file__).resolve().parents[2]


def test_home_page(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"See Redis and Cassandra at work" in response.content


@pytest.mark.asyncio
async def test_websocket_echo():
    communicator = WebsocketCommunicator(
        application, "/ws/echo/", headers=[(b"origin", b"http://127.0.0.1")]
    )
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_to(text_data="hello")
    assert await communicator.receive_from() == "hello"
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_websocket_rejects_foreign_origin():
    communicator = WebsocketCommunicator(
        application, "/ws/echo/", headers=[(b"origin", b"http://evil.example")]
    )
    connected, _ = await communicator.connect()
    assert not connected


@pytest.mark.asyncio
async def test_websocket_closes_on_oversized_frame():
    communicator = WebsocketCommunicator(
        application, "/ws/echo/", headers=[(b"origin", b"http://127.0.0.1")]
    )
    await communicator.connect()
    await communicator.send_to(text_data="x" * 5000)
    output = await communicator.receive_output()
    assert output == {"type": "websocket.close", "code": 1009}


def test_check_deploy_is_clean_with_production_env(tmp_path):
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "kvsite.settings",
            "DEBUG": "0",
            "SECRET_KEY": "prod-" + "k3y-" * 15,
            "ALLOWED_HOSTS": "kvsite.example",
            "KVSITE_VAR_DIR": str(tmp_path),
            "KV_URL": "memory:",
            "WIDE_URL": "memory:",
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # README.md documents security.W021 (HSTS preload left to the operator)
    # as the one intentional warning.
    reported = re.findall(r"\((\w+\.\w+)\)", result.stderr + result.stdout)
    assert reported == ["security.W021"], result.stderr


def test_secret_key_is_generated_once_into_var(tmp_path):
    env = dict(os.environ, KVSITE_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="kvsite.settings")
    env.pop("SECRET_KEY", None)
    code = "from django.conf import settings; import django; django.setup(); print(settings.SECRET_KEY)"
    first = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    second = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert first.stdout == second.stdout
    assert (tmp_path / "secret_key").read_text().strip() == first.stdout.strip()
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_start_up_objects_are_frozen_out_of_the_collector(monkeypatch):
    from kvsite.asgi import freeze_startup_objects

    gc.unfreeze()
    monkeypatch.setenv("KVSITE_GC_FREEZE", "0")
    freeze_startup_objects()
    assert gc.get_freeze_count() == 0
    monkeypatch.delenv("KVSITE_GC_FREEZE")
    freeze_startup_objects()
    assert gc.get_freeze_count() > 0
