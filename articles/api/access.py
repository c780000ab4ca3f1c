"""Who may use the read API: every path under /api/ passes here first (keys, per-key rate limits, the anonymous
switch, CORS), before the page cache, so that a cached answer never reaches anyone refused.

- A key comes in `Authorization: Bearer <key>` or `X-API-Key: <key>`. An unknown or revoked key is a 401; no
  key is a reader like any other while settings.API_ANONYMOUS is on, a 401 otherwise. The API's description
  and its browsable page (OPEN_PATHS) need no key: partners read them before they have one.
- A key's requests per minute (APIKey.rate_limit) are counted in its database row by one UPDATE per request,
  so every worker and app server shares the count, with or without Redis; one too many is a 429 with
  Retry-After. The count is GCRA (a rate clock per key): a burst of up to rate_limit requests, then one every
  60/rate_limit seconds, with no window edge at which twice the limit gets through.
- What each process remembers of a key (its hash, to find it without a query) is forgotten within
  REMEMBER_FOR seconds; revocation needs no waiting, since the UPDATE that counts a request refuses a
  revoked key.
- CORS headers, the rate-limit headers and Vary are added to the answer on its way out, after the page cache:
  a cached page is shared by every key and origin, and these headers are never stored with it. The API's
  answers are the same for every key (published stories only), so sharing them is right.
"""

import contextlib
import hmac
import json
import logging
import math
import time
from collections import namedtuple

from django.conf import settings
from django.db import OperationalError, connection
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers

from newsroom.admin import database_busy

from ..models import APIKey, hash_api_key

log = logging.getLogger("newsroom.api")

PREFIX = "/api/"
# The OpenAPI description and its browsable page: open to all, key or not, so partners can read how to use one.
OPEN_PATHS = ("/api/v1/openapi.json", "/api/v1/docs", "/api/v1/schemas/")

MINUTE = 60_000_000  # the rate clock counts microseconds
SPARE_SECONDS = 0.2  # on SQLite, the longest a count waits for an import's write lock

CORS_METHODS = "GET, HEAD, OPTIONS"
CORS_HEADERS = "Authorization, X-API-Key, If-None-Match, If-Modified-Since"
CORS_EXPOSED = "ETag, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining"
CORS_MAX_AGE = "86400"  # browsers keep a preflight's answer this long (Chromium at most 2 hours)

# The keys this process looked up lately, {prefix: (row or None, when)}.
REMEMBER_FOR = 1.0
_remembered = {}

KeyRow = namedtuple("KeyRow", ["pk", "name", "prefix", "hashed", "revoked_at"])
# What counting one request gave: whether it may go on, the limit, requests left now, seconds to wait if not.
Allowance = namedtuple("Allowance", ["allowed", "limit", "remaining", "retry_after"])


def presented_key(request):
    """The key the request carries ("" for an empty one), or None if it carries none. Authorization schemes
    other than Bearer (a staging site's Basic password) are not keys."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip()
    key = request.headers.get("X-API-Key")
    return key.strip() if key is not None else None


def find_key(key):
    """The KeyRow this key belongs to (revoked or not), or None if it is no key of ours."""
    prefix, _, secret = key.removeprefix(APIKey.KEY_START).partition("_")
    if not key.startswith(APIKey.KEY_START) or not secret or len(prefix) != 12:
        return None
    now = time.monotonic()
    row, when = _remembered.get(prefix, (None, -math.inf))
    if now - when >= REMEMBER_FOR:
        if len(_remembered) > 10_000:  # made-up prefixes must not fill the memory
            _remembered.clear()
        row = APIKey.objects.filter(prefix=prefix).values_list(*KeyRow._fields, named=True).first()
        _remembered[prefix] = (row, now)
    if row is None or not hmac.compare_digest(row.hashed, hash_api_key(key)):
        return None
    return row


def spend(row):
    """Count one request against the key: an Allowance, or None if the key has been revoked.

    One UPDATE moves the key's rate clock, unless the key is revoked or the request is one too many; only a
    refused request asks again, to tell which and how long to wait. On SQLite the UPDATE waits a moment at
    most for an import that holds the write lock; then the request goes through uncounted (readers keep
    reading during imports, key holders too).
    """
    now = time.time_ns() // 1000
    table = connection.ops.quote_name(APIKey._meta.db_table)
    greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    clock = f"{greatest}(rate_clock, %s) + {MINUTE} / rate_limit"
    # On PostgreSQL the count's commit does not wait for the disk (synchronous_commit off for this statement's
    # own transaction, set by the statement itself: one round trip): a crash may forget the last moment's
    # counts, and waiting for the fsync cost 3.6 ms a request here, ten times the rest of a cached answer.
    no_fsync = "AND set_config('synchronous_commit', 'off', true) = 'off' " if connection.vendor == "postgresql" else ""
    try:
        with connection.cursor() as cursor, briefly_waiting_for_writes(cursor):
            cursor.execute(
                f"UPDATE {table} SET rate_clock = {clock}, last_used_at = %s "
                f"WHERE id = %s AND revoked_at IS NULL AND {clock} <= %s {no_fsync}RETURNING rate_clock, rate_limit",
                [now, connection.ops.adapt_datetimefield_value(timezone.now()), row.pk, now, now + MINUTE],
            )
            counted = cursor.fetchone()
    except OperationalError as exc:
        if not database_busy(exc):
            raise
        log.warning("API key %s: request not counted, the database is busy writing", row.prefix)
        return Allowance(True, None, None, None)
    if counted is not None:
        moved_to, limit = counted
        return Allowance(True, limit, (now + MINUTE - moved_to) // (MINUTE // limit), None)
    state = APIKey.objects.filter(pk=row.pk, revoked_at__isnull=True).values_list("rate_clock", "rate_limit").first()
    if state is None:
        return None
    moved_to, limit = state
    wait = max(moved_to, now) + MINUTE // limit - MINUTE - now
    return Allowance(False, limit, 0, max(1, math.ceil(wait / 1_000_000)))


@contextlib.contextmanager
def briefly_waiting_for_writes(cursor):
    """On SQLite, a count waits at most SPARE_SECONDS for the write lock (the connection's own busy timeout, 5 s,
    is for editors' saves, which must not be lost), then gives up (spend())."""
    if connection.vendor != "sqlite":
        yield
        return
    cursor.execute(f"PRAGMA busy_timeout = {int(SPARE_SECONDS * 1000)}")
    try:
        yield
    finally:
        usual = connection.settings_dict.get("OPTIONS", {}).get("timeout", 5)
        cursor.execute(f"PRAGMA busy_timeout = {int(usual * 1000)}")


def refusal(status, error, message, **headers):
    body = {"error": error, "message": message}
    if "Retry-After" in headers:
        body["retry_after"] = int(headers["Retry-After"])
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json", headers=headers)
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def unauthorized(message, error=None):
    challenge = 'Bearer realm="api"' + (f', error="{error}"' if error else "")
    return refusal(401, error or "key_required", message, **{"WWW-Authenticate": challenge})


def allowed_origin(request):
    """The value of Access-Control-Allow-Origin for this request, or None if its origin may not read the API."""
    origins = settings.API_CORS_ORIGINS
    origin = request.headers.get("Origin")
    if "*" in origins:
        return "*"
    return origin if origin in origins else None


def with_cors(response, request, *, preflight=False):
    origins = settings.API_CORS_ORIGINS
    if not origins:
        return response
    if "*" not in origins:
        patch_vary_headers(response, ["Origin"])  # so that a CDN keeps one answer per origin
    origin = allowed_origin(request)
    if origin is None:
        return response
    response["Access-Control-Allow-Origin"] = origin
    if preflight:
        response["Access-Control-Allow-Methods"] = CORS_METHODS
        response["Access-Control-Allow-Headers"] = CORS_HEADERS
        response["Access-Control-Max-Age"] = CORS_MAX_AGE
    else:
        response["Access-Control-Expose-Headers"] = CORS_EXPOSED
    return response


class APIAccessMiddleware:
    """Let through, or refuse, each request under /api/, and add its rate-limit and CORS headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(PREFIX):
            return self.get_response(request)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            # A browser asking whether it may send the real request: it sends no key, so none is asked for.
            return with_cors(HttpResponse(status=204), request, preflight=True)
        response = self.answer(request)
        # Answers differ by key (the rate-limit headers; refusals when anonymous access is off): a CDN must
        # not give one key's answer to another, nor to a request without one.
        patch_vary_headers(response, ["Authorization", "X-API-Key"])
        return with_cors(response, request)

    def answer(self, request):
        request.api_key = None
        key = presented_key(request)
        if request.path_info.startswith(OPEN_PATHS):
            return self.get_response(request)
        if key is None:
            if settings.API_ANONYMOUS:
                return self.get_response(request)
            return unauthorized(
                "This API needs a key: send it as 'Authorization: Bearer <key>'. The newsroom's editors issue keys."
            )
        row = find_key(key)
        allowance = spend(row) if row is not None else None
        if allowance is None:
            return unauthorized("This API key is unknown or has been revoked.", "invalid_token")
        if not allowance.allowed:
            response = refusal(
                429,
                "rate_limited",
                f"This key may make {allowance.limit} requests a minute; try again in {allowance.retry_after} s.",
                **{"Retry-After": str(allowance.retry_after)},
            )
        else:
            request.api_key = row
            response = self.get_response(request)
        if allowance.limit is not None:
            response["X-RateLimit-Limit"] = str(allowance.limit)
            response["X-RateLimit-Remaining"] = str(allowance.remaining)
        return response
