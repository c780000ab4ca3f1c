from django.urls import path

from . import views
from .cache import cache_page_for_readers

app_name = "articles"

# Public pages go through the page cache for anonymous readers (articles/cache.py): any edit invalidates it.
urlpatterns = [
    path("", cache_page_for_readers(views.IndexView.as_view()), name="index"),
    path("photos/<int:pk>/<str:key>/<str:filename>", views.rendition, name="rendition"),
    path("<slug:section>/", cache_page_for_readers(views.SectionView.as_view()), name="section"),
    path(
        "<slug:section>/<int:year>/<str:month>/<str:day>/<str:slug>/",
        cache_page_for_readers(views.ArticleDetailView.as_view()),
        name="detail",
    ),
]
