from django.shortcuts import get_object_or_404
from django.views.generic import DetailView, ListView

from .models import Article, Section


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
