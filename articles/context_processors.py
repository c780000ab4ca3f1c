import logging

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from .cache import content_version
from .models import Section

log = logging.getLogger("newsroom.cache")

# (content version, its sections), for this process.
_sections = (None, [])


def sections_for(request):
    """Every section, for the masthead; views take their section (and their stories' sections) from the
    same list instead of asking the database again.

    Each process keeps the list for the current content version: any change to a section bumps it, so
    the list is read once per change rather than on every request. Nothing may modify these objects.
    """
    global _sections
    if not hasattr(request, "_sections"):
        try:
            version = content_version()
        except Exception:  # noqa: BLE001 -- the cache only saves work
            log.warning("page cache unavailable", exc_info=True, extra={"path": request.path})
            version = None
        if version is None or _sections[0] != version:
            _sections = (version, list(Section.objects.all()))
        request._sections = _sections[1]
    return request._sections


def site(request):
    """The site's name and its sections, for the masthead and footer of every page."""
    return {
        "site_name": settings.SITE_NAME,
        "sections": SimpleLazyObject(lambda: sections_for(request)),
    }
