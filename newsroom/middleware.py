import logging
import time

from django.conf import settings

log = logging.getLogger("newsroom.request")


def client_ip(request):
    """The reader's address: the one our nearest trusted proxy saw, or the socket's peer without proxies.

    Each proxy appends the address it received the request from to X-Forwarded-For, so with N proxies
    the Nth entry from the right is the last one a client could not forge.
    """
    if settings.PROXY_COUNT:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(forwarded) >= settings.PROXY_COUNT and forwarded[-settings.PROXY_COUNT]:
            return forwarded[-settings.PROXY_COUNT]
    return request.META.get("REMOTE_ADDR")


class RequestLogMiddleware:
    """One structured log line per request: what was asked, the answer, how long it took."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        status = response.status_code
        user = getattr(request, "user", None)
        log.log(
            logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO,
            "%s %s %s",
            request.method,
            request.path,
            status,
            extra={
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "client_ip": client_ip(request),
                "user_id": user.pk if user is not None and user.is_authenticated else None,
                "page_cache": response.headers.get("X-Page-Cache"),
            },
        )
        return response
