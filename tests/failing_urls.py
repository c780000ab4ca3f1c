"""A URLconf with a view that crashes, to see the 500 page readers would get."""

from django.urls import include, path


def crash(request):
    raise RuntimeError("a bug")


urlpatterns = [path("crash/", crash), path("", include("articles.urls"))]
