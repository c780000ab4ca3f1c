from django.urls import path, re_path

from ..pagecache import cache_page_for_readers
from . import views

app_name = "api"

# Stories go through the page cache for anonymous readers, as the HTML pages do (articles/pagecache.py), under
# "all" and "site": every change readers can see to a published story bumps "site", whatever its page.
urlpatterns = [
    path("", views.index, name="index"),
    path("stories/", cache_page_for_readers(views.stories), name="stories"),
    path("stories/lookup/", cache_page_for_readers(views.lookup), name="lookup"),
    path("stories/<int:pk>/", cache_page_for_readers(views.story), name="story"),
    path("openapi.json", views.openapi_document, name="openapi"),
    path("docs/", views.docs, name="docs"),
    path("schemas/ninjs-2.2.json", views.ninjs_schema, name="ninjs-schema"),
    # Anything else under /api/v1/ is a JSON 404, not the site's HTML page.
    re_path(r"^.*$", views.not_found, name="not-found"),
]
