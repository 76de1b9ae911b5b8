"""Django settings for kvsite.

Every setting that differs between a laptop and production is read from the
environment, with safe local defaults. The two store settings, ``KV_URL`` and
``WIDE_URL``, choose the key-value and wide-column stores (see
docs/architecture.md); nothing else in the project reads them directly.
"""

import os
import secrets
from pathlib import Path

from stores.config import parse_kv_url, parse_wide_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("KVSITE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    """Return the boolean value of an environment variable."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def env_list(name: str, default: list[str]) -> list[str]:
    """Return a comma-separated environment variable as a list."""
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def local_secret_key() -> str:
    """Return the local secret key, generating it into var/ on first use."""
    path = VAR_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY") or local_secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

KV_URL = os.environ.get("KV_URL", "embedded:var/kv")
# Persistence of an embedded key-value store (sessions, leaderboards, rate
# limits): the append-only file, fsynced once a second, as Redis's
# "appendonly yes" + "appendfsync everysec".
KV_EMBEDDED_OPTIONS = {
    "appendonly": env_bool("KV_APPENDONLY", True),
    "appendfsync": os.environ.get("KV_APPENDFSYNC", "everysec"),
}
WIDE_URL = os.environ.get("WIDE_URL", "embedded:var/wide")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "stores",
    "blog",
]

MIDDLEWARE = [
    "blog.middleware.StoreTraceMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "kvsite.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "kvsite.wsgi.application"
ASGI_APPLICATION = "kvsite.asgi.application"

# Users and auth stay in the relational database, as in any Django project.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
    }
}

# The page cache and sessions live in the key-value store, through
# stores.cache.KVCache (Django's RedisCache on the stores.clients handles, so
# every command shows in the "What this page did" panel). Sessions use the
# main handle ("main": never evicted by page-cache pressure); rendered pages
# use "pages", which for an embedded KV_URL is a memory-only engine of its
# own with KV_PAGE_CACHE_MAXMEMORY and allkeys-lru.
_kv = parse_kv_url(KV_URL)
KV_PAGE_CACHE_MAXMEMORY = int(os.environ.get("KV_PAGE_CACHE_MAXMEMORY", str(64 * 1024 * 1024)))
CACHES = {
    "default": {
        "BACKEND": "stores.cache.KVCache",
        "LOCATION": "pages",
        "KEY_PREFIX": "page",
        "TIMEOUT": int(os.environ.get("PAGE_CACHE_SECONDS", "600")),
    },
    "sessions": {
        "BACKEND": "stores.cache.KVCache",
        "LOCATION": "main",
        "KEY_PREFIX": "session",
        "TIMEOUT": None,
    },
}
# bench/site.py compares the page cache on the embedded engine with Django's
# own backends; these two knobs exist for that comparison.
_page_cache = os.environ.get("BLOG_PAGE_CACHE_BACKEND", "kv")
if _page_cache == "locmem":
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "TIMEOUT": CACHES["default"]["TIMEOUT"],
        "OPTIONS": {"MAX_ENTRIES": 10000},
    }
elif _page_cache == "django-redis":
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("BLOG_PAGE_CACHE_URL", KV_URL),
        "KEY_PREFIX": "page",
        "TIMEOUT": CACHES["default"]["TIMEOUT"],
    }
elif _page_cache != "kv":
    raise ValueError(f"BLOG_PAGE_CACHE_BACKEND={_page_cache!r}: use kv, locmem or django-redis")
BLOG_PAGE_CACHE_ENABLED = env_bool("BLOG_PAGE_CACHE_ENABLED", True)

if _kv.kind == "redis":
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [KV_URL]},
        }
    }
else:
    # The project's own layer on the key-value engine's pub/sub.
    CHANNEL_LAYERS = {"default": {"BACKEND": "stores.channel_layer.KVChannelLayer"}}

SESSION_ENGINE = "django.contrib.sessions.backends.cache"
SESSION_CACHE_ALIAS = "sessions"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# The demo blog (issue 8).
_wide_keyspace = parse_wide_url(WIDE_URL).keyspace
BLOG_KEYSPACE = os.environ.get("BLOG_KEYSPACE", _wide_keyspace or "blog")
BLOG_HISTORY_TTL_SECONDS = int(os.environ.get("BLOG_HISTORY_TTL_SECONDS", str(90 * 24 * 3600)))
BLOG_POSTS_PER_PAGE = 10
BLOG_COMMENTS_PER_PAGE = 20
BLOG_COMMENT_RATE_LIMIT = (
    int(os.environ.get("BLOG_COMMENTS_PER_WINDOW", "5")),
    int(os.environ.get("BLOG_COMMENT_WINDOW_SECONDS", "60")),
)
BLOG_TRACE_PANEL = env_bool("BLOG_TRACE_PANEL", True)
# Only for WIDE_URL=memory:, e.g. "posts=12,comments=40,users=3,views=30".
BLOG_MEMORY_SEED = os.environ.get("BLOG_MEMORY_SEED", "")

# Production hardening: on whenever DEBUG is off; each can be relaxed by env
# (e.g. SECURE_SSL_REDIRECT=0 behind a proxy that already redirects).
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {
        "stores": {"level": os.environ.get("STORES_LOG_LEVEL", "INFO"), "propagate": True},
    },
}
