import logging
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

log = logging.getLogger("newsroom.health")


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache():
    key, value = f"healthz:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, value, timeout=10)
    if cache.get(key) != value:
        raise RuntimeError("the cache did not return what was stored")
    cache.delete(key)


CHECKS = {"database": _database, "cache": _cache}


@never_cache
def healthz(request):
    """For load balancers: 503 only when this server cannot serve pages, that is when the database fails.

    A failing cache (Redis) only makes pages slower to build (articles/pagecache.py gives up on it quickly), so
    it answers 200 with status "degraded": taking every app server out of the load balancer because the
    shared Redis is down would stop a site that still works. Monitoring alerts on "degraded".
    """
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:  # noqa: BLE001 -- any failure means "not healthy"; the traceback goes to the log
            log.exception("health check failed: %s", name, extra={"check": name})
            results[name] = "error"
        else:
            results[name] = "ok"
    if results["database"] != "ok":
        status, code = "error", 503
    elif any(result != "ok" for result in results.values()):
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return JsonResponse({"status": status, **results}, status=code)
