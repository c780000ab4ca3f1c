from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Newsroom"

    def ready(self):
        from . import cache  # noqa: F401 -- connects the signals that invalidate cached pages
