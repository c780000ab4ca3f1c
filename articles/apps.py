from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Newsroom"

    def ready(self):
        from . import cache, checks  # noqa: F401 -- connect the page cache's signals, register the checks
