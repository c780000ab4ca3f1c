from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe
from django.views.generic import DetailView, ListView

from . import renditions
from .models import Article, Photo, Section


class PublishedMixin:
    """Every public view starts from Article.objects.published()."""

    def get_queryset(self):
        return Article.objects.published().select_related("section").prefetch_related("captions__photo").newest_first()


class IndexView(PublishedMixin, ListView):
    template_name = "articles/index.html"
    paginate_by = 20


class SectionView(PublishedMixin, ListView):
    template_name = "articles/section.html"
    paginate_by = 20

    def get_queryset(self):
        self.section = get_object_or_404(Section, slug=self.kwargs["section"])
        return super().get_queryset().in_section(self.section)

    def get_context_data(self, **kwargs):
        return super().get_context_data(section=self.section, **kwargs)


class ArticleDetailView(PublishedMixin, DetailView):
    template_name = "articles/detail.html"

    def get_queryset(self):
        return super().get_queryset().filter(section__slug=self.kwargs["section"])


@require_safe
def rendition(request, pk, key, filename):
    """A photo rendition that pages link to before it is known to be in storage: made here on first request
    (safely when several servers race), then redirected to storage.

    A rendition's name never changes meaning (see renditions.py), so browsers and CDNs may keep it for good.
    """
    photo = get_object_or_404(Photo, pk=pk)
    wanted = renditions.find(photo, key, filename)
    if wanted is None:
        raise Http404("No such rendition")
    data = renditions.ensure(photo, wanted)
    if data is None:
        response = redirect(photo.image.storage.url(wanted.name))
        patch_cache_control(response, public=True, max_age=24 * 3600)
    else:
        response = HttpResponse(data, content_type=wanted.mime_type)
        patch_cache_control(response, public=True, max_age=365 * 24 * 3600, immutable=True)
    return response
