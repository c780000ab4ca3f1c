from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.caches, Tags.security, deploy=True)
def shared_cache_check(app_configs, **kwargs):
    """Production needs a cache shared by all app servers, or an edit only invalidates pages on one of them."""
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith(("LocMemCache", "DummyCache", "FileBasedCache")):
        return [
            Warning(
                f"The cache ({backend}) is not shared between app servers: with more than one, an edit "
                "invalidates cached pages on one server only.",
                hint="Set REDIS_URL (e.g. redis://redis.internal:6379/0).",
                id="articles.W001",
            )
        ]
    return []
