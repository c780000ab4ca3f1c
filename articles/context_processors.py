from django.conf import settings
from django.utils.functional import SimpleLazyObject

from .pagecache import sections_for


def site(request):
    """The site's name and its sections, for the masthead and footer of every page."""
    return {
        "site_name": settings.SITE_NAME,
        "sections": SimpleLazyObject(lambda: sections_for(request)),
    }
