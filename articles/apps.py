from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Newsroom"

    def ready(self):
        from . import signals

        signals.connect()
        # SQLite drops a table's triggers when a migration rebuilds that table: put the search triggers back.
        post_migrate.connect(install_search, sender=self, dispatch_uid="articles.install_search")


def install_search(using, **kwargs):
    from . import search

    search.install(connections[using])
