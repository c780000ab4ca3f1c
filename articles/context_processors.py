from django.conf import settings
from django.utils.functional import SimpleLazyObject

from .models import Section


def sections_for(request):
    """Every section, read once per request: the masthead lists them, and views take their section (and
    their stories' sections) from the same list instead of asking the database again."""
    if not hasattr(request, "_sections"):
        request._sections = list(Section.objects.all())
    return request._sections


def site(request):
    """The site's name and its sections, for the masthead and footer of every page."""
    return {
        "site_name": settings.SITE_NAME,
        "sections": SimpleLazyObject(lambda: sections_for(request)),
    }
