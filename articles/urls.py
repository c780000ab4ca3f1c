from django.urls import path

from . import views

app_name = "articles"

urlpatterns = [
    path("", views.IndexView.as_view(), name="index"),
    path("photos/<int:pk>/<str:key>/<str:filename>", views.rendition, name="rendition"),
    path("<slug:section>/", views.SectionView.as_view(), name="section"),
    path(
        "<slug:section>/<int:year>/<str:month>/<str:day>/<str:slug>/",
        views.ArticleDetailView.as_view(),
        name="detail",
    ),
]
