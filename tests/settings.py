"""Settings for the test suite: the project's settings with in-memory stores.

The environment still wins, so the same suite runs with, e.g.,
``KV_URL=redis://127.0.0.1:PORT/0``.
"""

import os
import tempfile

os.environ.setdefault("KV_URL", "memory:")
os.environ.setdefault("WIDE_URL", "memory:")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("KVSITE_VAR_DIR", tempfile.mkdtemp(prefix="kvsite-test-var-"))

from kvsite.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
