from django.contrib import admin
from django.http import HttpResponse
from django.urls import path

PAGE = "<!doctype html><html lang=en><title>Bare</title><h1>Hello</h1><p>A short page from a bare project.</p>"


def hello(request):
    return HttpResponse(PAGE)


urlpatterns = [
    path("admin/", admin.site.urls),
    # The trivial view's path (bench/urls.py), so that one wrk helper serves both baselines.
    path("__bench__/trivial/", hello),
]
