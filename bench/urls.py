from django.http import HttpResponse
from django.urls import include, path


def trivial(request):
    """The cheapest Django response: what the framework and gunicorn cost before any page work."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("__bench__/trivial/", trivial),
    path("", include("newsroom.urls")),
]
