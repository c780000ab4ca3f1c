"""Stand-ins for the read API's views (articles/api/, whose real views take these paths), behind the access layer
that guards every path under /api/ (articles/api/access.py): one page-cached listing, one that says which
partner asked and which process answered, and the API's documentation page, open to all."""

import os
import time

from django.http import HttpResponse, JsonResponse
from django.urls import include, path

from articles.models import Article
from articles.pagecache import cache_page_for_readers


def stories(request):
    return JsonResponse({"stories": list(Article.objects.published().values_list("headline", flat=True))})


def whoami(request):
    time.sleep(float(request.GET.get("sleep", 0)))  # holds its worker, so that others answer meanwhile
    key = request.api_key
    return JsonResponse({"partner": key.name if key else None, "pid": os.getpid()})


def docs(request):
    return HttpResponse("<!doctype html><title>API</title><p>How to use the API.")


urlpatterns = [
    path("api/v1/stories/", cache_page_for_readers(stories), name="api-stories"),
    path("api/v1/whoami/", whoami),
    path("api/v1/docs", docs),
    path("", include("newsroom.urls")),
]
