from django.apps import AppConfig
from django.conf import settings
from django.db import connections
from django.db.models.signals import post_migrate


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Newsroom"

    def ready(self):
        from PIL import Image

        from . import signals

        signals.connect()
        # SQLite drops a table's triggers when a migration rebuilds that table: put the search triggers back.
        post_migrate.connect(install_search, sender=self, dispatch_uid="articles.install_search")
        # Uploads are refused above PHOTO_MAX_MEGAPIXELS by our own check (articles/photos/images.py); Pillow's
        # process-wide guard must not refuse, below that, a picture the settings allow.
        Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, int(settings.PHOTO_MAX_MEGAPIXELS * 1_000_000))


def install_search(using, **kwargs):
    from . import search

    search.install(connections[using])
