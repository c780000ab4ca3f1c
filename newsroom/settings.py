"""Newsroom settings: one module, driven by the environment.

Development defaults are safe to run on a laptop; with DJANGO_DEBUG off (production) the
settings refuse to start without a real secret key and allowed hosts.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name, default):
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


DEBUG = env_bool("DJANGO_DEBUG", True)

DEV_SECRET_KEY = "django-insecure-dev-only-newsroom-key"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", DEV_SECRET_KEY)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")

if not DEBUG:
    if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set to a random string of 50+ characters when DJANGO_DEBUG is off."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must name the site's hosts when DJANGO_DEBUG is off.")
    if "*" in ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must not be '*' when DJANGO_DEBUG is off.")

# Where the admin lives, e.g. "desk-7f3a/": moving it off /admin/ keeps most password-guessing bots away.
ADMIN_URL = os.environ.get("DJANGO_ADMIN_URL", "admin/").strip("/") + "/"
if ADMIN_URL == "/":
    raise ImproperlyConfigured("DJANGO_ADMIN_URL must not be empty: the admin cannot live at the site's root.")

INSTALLED_APPS = [
    "newsroom.admin.NewsroomAdminConfig",  # django.contrib.admin, coping with imports (newsroom/admin.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",  # SearchVectorField and GinIndex of the article table (harmless on SQLite)
    "django_filters",
    "reversion",
    "axes",
    "django_tasks_db",
    "articles",
]

MIDDLEWARE = [
    "newsroom.middleware.RequestLogMiddleware",
    # /api/: keys, per-key rate limits and CORS, before the page cache so that no cached answer reaches
    # anyone refused, and so that its per-key and per-origin headers are never stored with a page.
    "articles.api.access.APIAccessMiddleware",
    # Anonymous readers' cached pages, answered before the rest of the stack runs (articles/pagecache.py).
    "articles.pagecache.PageCacheMiddleware",
    # Above SecurityMiddleware, so that its HTTPS redirects (and whitenoise's files) get these headers too.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # ETag from the response body and 304s for If-None-Match; views add Last-Modified themselves.
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into a 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "newsroom.urls"

TEMPLATES = [
    # The public site: Jinja2 renders a page in a fraction of the time (articles/jinja2.py). Only
    # templates/jinja2/ holds its templates; a name not found there is Django's (the admin, the sitemaps).
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "articles.jinja2.environment",
            "context_processors": [
                "django.template.context_processors.csp",
                "articles.context_processors.site",
            ],
        },
    },
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "articles.context_processors.site",
            ],
        },
    },
]

# The public site's name, in page titles, feeds, sitemaps and structured data.
SITE_NAME = os.environ.get("NEWSROOM_SITE_NAME", "Newsroom")
# The public site's address (https://news.example), for absolute links made without a request (the API's ninjs
# sent by webhooks) and for the ninjs `uri` of stories, which must not depend on the host a request came in on.
# Empty: taken from each request (and http://localhost without one).
SITE_URL = os.environ.get("NEWSROOM_SITE_URL", "").rstrip("/")

WSGI_APPLICATION = "newsroom.wsgi.application"

# DATABASE_URL picks the database: an SQLite file in the repo by default, PostgreSQL in production
# (postgres://user:password@host:5432/name).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers keep reading while an import writes; IMMEDIATE avoids lock-upgrade deadlocks (the
    # admin's pages that only read begin DEFERRED instead: newsroom/admin.py). A write waits up to `timeout`
    # seconds for the write lock, which an import holds while it writes; then an editor is told to save again
    # (an import itself waits longer: articles/imports.py).
    # Connections are kept, as on PostgreSQL: opening one (Django registers its SQL functions, SQLite
    # reads the schema) cost 2.5 ms, half the time of an article page (bench/pages.py).
    DATABASES["default"]["ENGINE"] = "newsroom.sqlite3"  # Django's, asking SQLite for JSON without a lock (its base.py)
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 5,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    # No parallel workers for one query: a page's query is a few milliseconds of work, and starting two
    # workers for it (PostgreSQL's choice for a topic's page at 100,000 stories) cost 30-40 ms and both cores
    # other requests were using (docs/performance.md). Added to PGOPTIONS, which `make migrate` sets.
    DATABASES["default"]["OPTIONS"] = {
        "options": f"{os.environ.get('PGOPTIONS', '')} -c max_parallel_workers_per_gather=0".strip(),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# A CDN in front: set DJANGO_STATIC_URL (and DJANGO_MEDIA_URL for S3) to absolute URLs; the CSP below allows them.
STATIC_URL = os.environ.get("DJANGO_STATIC_URL", "static/")
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = os.environ.get("DJANGO_MEDIA_URL", "media/")
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))

# Media go through the storage API only, so a bucket can replace the disk without code changes:
# DJANGO_MEDIA_BUCKET switches to django-storages' S3 backend (see docs/photos.md).
MEDIA_BUCKET = os.environ.get("DJANGO_MEDIA_BUCKET", "")
if MEDIA_BUCKET:
    MEDIA_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MEDIA_BUCKET,
            "endpoint_url": os.environ.get("DJANGO_MEDIA_ENDPOINT_URL") or None,
            "region_name": os.environ.get("DJANGO_MEDIA_REGION") or None,
            "custom_domain": os.environ.get("DJANGO_MEDIA_DOMAIN") or None,
            "location": os.environ.get("DJANGO_MEDIA_PREFIX", ""),
            # Public-read objects with stable URLs: signing every srcset URL on every page view costs CPU and
            # defeats browser and CDN caches.
            "querystring_auth": False,
            "default_acl": None,
            # Two uploads named alike must not replace each other (the original photo is the only copy).
            "file_overwrite": False,
        },
    }
else:
    # FileSystemStorage, except that files appear complete or not at all (see articles/photos/storage.py).
    MEDIA_STORAGE = {"BACKEND": "articles.photos.storage.MediaStorage"}

STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
    # Dumps uploaded on the admin's "Import dump" page wait here between the dry run and the confirmation.
    # Not under MEDIA_ROOT: they hold unpublished stories. With several app servers, use shared storage.
    "imports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": Path(os.environ.get("DJANGO_IMPORT_ROOT", BASE_DIR / "var" / "imports"))},
    },
}

# Imports (articles/dump.py, articles/imports.py): the most text one line, one story and one dump (decompressed)
# may hold, and the largest upload the admin's Import page accepts. Far above real wire copy (the sample's longest
# line is 400 bytes, its longest story 6 KB); the story limit also keeps a story's search vector under
# PostgreSQL's 1 MB tsvector limit, so raise it no further than about 300 KB there. 256 MB of dump is some
# 40,000 stories in one file (a directory's files count one by one), and is gunzipped in about a second.
IMPORT_MAX_LINE_KB = env_int("DJANGO_IMPORT_MAX_LINE_KB", 64)
IMPORT_MAX_STORY_KB = env_int("DJANGO_IMPORT_MAX_STORY_KB", 256)
IMPORT_MAX_DUMP_MB = env_int("DJANGO_IMPORT_MAX_DUMP_MB", 256)
IMPORT_MAX_UPLOAD_MB = env_int("DJANGO_IMPORT_MAX_UPLOAD_MB", 100)
# The Import page's jobs run in a worker (articles/tasks.py), which beats every IMPORT_JOB_HEARTBEAT_SECONDS; a
# job whose worker on another machine has not beaten for IMPORT_JOB_STALE_SECONDS is lost (a worker on this
# machine is known gone at once, by its process id) and sent again, up to IMPORT_JOB_LOST_RETRIES times, then
# marked failed.
IMPORT_JOB_HEARTBEAT_SECONDS = env_int("DJANGO_IMPORT_JOB_HEARTBEAT_SECONDS", 5)
IMPORT_JOB_STALE_SECONDS = env_int("DJANGO_IMPORT_JOB_STALE_SECONDS", 60)
IMPORT_JOB_LOST_RETRIES = env_int("DJANGO_IMPORT_JOB_LOST_RETRIES", 2)

# Webhooks (articles/webhooks.py, docs/api.md, Webhooks): deliveries go only to https:// URLs on public addresses,
# checked when an editor saves a subscriber and again on the address each delivery connects to.
# WEBHOOKS_ALLOW_PRIVATE (for tests and development; never in production) allows loopback and private addresses
# and http://. A delivery waits WEBHOOKS_TIMEOUT_SECONDS for an answer; a failed one is tried again after
# WEBHOOKS_RETRY_SECONDS, doubled each time up to WEBHOOKS_RETRY_MAX_SECONDS; a subscriber whose deliveries have
# failed for WEBHOOKS_PAUSE_AFTER_HOURS is paused (and a delivery that old is given up).
WEBHOOKS_ALLOW_PRIVATE = env_bool("DJANGO_WEBHOOKS_ALLOW_PRIVATE", False)
WEBHOOKS_TIMEOUT_SECONDS = env_int("DJANGO_WEBHOOKS_TIMEOUT_SECONDS", 5)
WEBHOOKS_RETRY_SECONDS = env_int("DJANGO_WEBHOOKS_RETRY_SECONDS", 30)
WEBHOOKS_RETRY_MAX_SECONDS = env_int("DJANGO_WEBHOOKS_RETRY_MAX_SECONDS", 3600)
WEBHOOKS_PAUSE_AFTER_HOURS = env_int("DJANGO_WEBHOOKS_PAUSE_AFTER_HOURS", 24)

# The wire drop folder (`manage.py ingest_watch`, articles/wire.py): a dump is complete once it has not changed for
# this many seconds (an uploader that writes under a temporary name and renames is taken at once), and its new
# stories get this status.
DROP_SETTLE_SECONDS = float(os.environ.get("NEWSROOM_DROP_SETTLE_SECONDS", "10"))
DROP_STATUS = os.environ.get("NEWSROOM_DROP_STATUS", "draft")
if DROP_STATUS not in ("draft", "published"):
    raise ImproperlyConfigured(f"NEWSROOM_DROP_STATUS must be draft or published, not {DROP_STATUS!r}")

# Photos (articles/photos/). Uploads are checked by their decoded content.
PHOTO_MAX_UPLOAD_MB = float(os.environ.get("DJANGO_PHOTO_MAX_UPLOAD_MB", "25"))
PHOTO_MAX_MEGAPIXELS = float(os.environ.get("DJANGO_PHOTO_MAX_MEGAPIXELS", "60"))
# Frames of an animation, counted from the headers before any is decoded (a GIF of 200,000 one-pixel frames
# is 5 MB and took 10 s to decode).
PHOTO_MAX_FRAMES = int(os.environ.get("DJANGO_PHOTO_MAX_FRAMES", "500"))
# Widths of the responsive renditions, in pixels; an image is never enlarged past its own width.
PHOTO_RENDITION_WIDTHS = sorted({int(w) for w in env_list("DJANGO_PHOTO_RENDITION_WIDTHS")}) or [
    320,
    640,
    960,
    1280,
    1600,
]

# One JSON object per line in production (DJANGO_LOG_FORMAT=json), for the log shipper; plain text in development.
# Requests are logged by newsroom.middleware ("newsroom.request"), imports by articles.imports ("newsroom.import").
LOG_FORMAT = os.environ.get("DJANGO_LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "newsroom.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    # newsroom.request logs every request; Django's own loggers keep only what it cannot say (tracebacks).
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "ERROR"},
        "axes": {"level": "WARNING"},  # otherwise a banner at every start
        # In a terminal, import_dump says the same thing itself; the JSON line is for log shippers.
        "newsroom.import": {"level": "INFO" if LOG_FORMAT == "json" else "CRITICAL"},
    },
}

# Cache: Redis shared by every app server when REDIS_URL is set (redis://127.0.0.1:6379/0), otherwise each
# process's own memory. Either is correct: what makes a cached page stale is in the database (articles/pagecache.py).
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache"
        if REDIS_URL
        else "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": REDIS_URL,
        # Several sites (or test runs) can share one Redis without seeing each other's keys.
        "KEY_PREFIX": os.environ.get("DJANGO_CACHE_PREFIX", "newsroom"),
    }
}
if not REDIS_URL:
    # Each worker keeps its own pages: enough of them for a busy site's stories of the day (Django's default
    # of 300 would let readers' requests for a thousand stories push each other out).
    CACHES["default"]["OPTIONS"] = {"MAX_ENTRIES": env_int("DJANGO_LOCAL_CACHE_ENTRIES", 3000)}
else:
    # A Redis that stops answering must cost one request a quarter of a second, not hang it (and the worker);
    # after a failure each process stops asking for a while (articles/pagecache.py from_cache).
    CACHES["default"]["OPTIONS"] = {"socket_connect_timeout": 0.25, "socket_timeout": 0.25}
# Seconds a public page may be served from the cache; a change invalidates the pages it shows on at once.
PAGE_CACHE_SECONDS = env_int("DJANGO_PAGE_CACHE_SECONDS", 300)

# The read API (/api/, articles/api/access.py, docs/api.md, Keys). Anonymous readers may use it unless
# API_ANONYMOUS is off; then every request needs a key (Admin → API keys). A key's requests per minute default to
# API_RATE_LIMIT (each key has its own, counted in the database so every process shares it).
API_ANONYMOUS = env_bool("DJANGO_API_ANONYMOUS", True)
API_RATE_LIMIT = env_int("DJANGO_API_RATE_LIMIT", 600)
# Origins whose pages' scripts may read the API (https://app.example.com), or "*" for any; none by default.
API_CORS_ORIGINS = env_list("DJANGO_API_CORS_ORIGINS")
for _origin in API_CORS_ORIGINS:
    _url = urlsplit(_origin)
    _is_origin = _url.scheme in ("http", "https") and _url.netloc and _origin == f"{_url.scheme}://{_url.netloc}"
    if _origin != "*" and not _is_origin:
        raise ImproperlyConfigured(
            f"DJANGO_API_CORS_ORIGINS: {_origin!r} is neither * nor an origin (scheme://host[:port], nothing after)"
        )
if API_RATE_LIMIT < 1:
    raise ImproperlyConfigured("DJANGO_API_RATE_LIMIT must be at least 1 (requests per minute).")

# Security headers, on every response in development too, so a policy violation shows up before production.
# Content-Security-Policy through Django's own middleware: our pages and the admin load scripts and styles
# only from files, so no 'unsafe-inline'. A template that truly needs an inline <script> gives it
# nonce="{{ csp_nonce }}" (the NONCE placeholder below); such a page must not be page-cached.
_asset_origins = sorted(
    {f"{url.scheme}://{url.netloc}" for url in map(urlsplit, [STATIC_URL, MEDIA_URL]) if url.netloc}
)
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE, *_asset_origins],
    "style-src": [CSP.SELF, CSP.NONCE, *_asset_origins],
    "img-src": [CSP.SELF, "data:", *_asset_origins],
    "font-src": [CSP.SELF, *_asset_origins],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Nothing reads the CSRF token from JavaScript (the admin posts it as a form field), so hide it from scripts.
CSRF_COOKIE_HTTPONLY = True
# Full origins, e.g. https://news.example.com, for forms posted from another host name of ours.
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# Behind load balancers or a CDN: how many proxies sit in front of the app servers. They set
# X-Forwarded-Proto (so Django knows the reader used HTTPS) and append to X-Forwarded-For (the reader's
# address, for login lockout). Zero means nothing in front, and both headers are ignored as forgeable.
PROXY_COUNT = env_int("DJANGO_PROXY_COUNT", 0)
if PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    # Load balancers probe over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Admin login lockout (django-axes). Failed attempts are rows in the shared database, so every app server
# sees them. Three counts, each with its limit, lock out for the cool-off time (newsroom/lockout.py): one
# username from one address (that pair), one username from all addresses (that account, wherever from),
# one address for all usernames (that address: password spraying).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "newsroom.lockout.LockoutHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username", "ip_address"]
AXES_FAILURE_LIMIT = env_int("DJANGO_LOGIN_FAILURE_LIMIT", 5)
LOGIN_ACCOUNT_FAILURE_LIMIT = env_int("DJANGO_LOGIN_ACCOUNT_FAILURE_LIMIT", 10)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("DJANGO_LOGIN_ADDRESS_FAILURE_LIMIT", 20)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("DJANGO_LOGIN_COOLOFF_MINUTES", 15))
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "newsroom.middleware.client_ip"
AXES_LOCKOUT_CALLABLE = "newsroom.lockout.lockout_page"  # how long, and the way back


# Work that outlives a request (imports, photo renditions) runs as django.tasks tasks, queued in the database
# by django-tasks-db: no extra server, and any number of workers (`make worker`, `manage.py db_worker`) on any
# number of machines against PostgreSQL. DJANGO_TASKS_BACKEND switches the engine (docs/deploy.md, "Workers").
TASKS = {
    "default": {
        "BACKEND": os.environ.get("DJANGO_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}
