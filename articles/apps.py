import sys

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
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
        if sys.argv[1:2] == ["db_worker"]:  # a worker: import jobs whose worker was killed are its to resume
            from .tasks import sweep_lost_jobs
            from .webhooks import watch_embargoes

            sweep_lost_jobs()
            watch_embargoes()  # and embargoes that lift are its to announce


def install_search(using, apps=global_apps, **kwargs):
    from . import search

    # Not when migrated back before the search columns (migration 0014 installs it again on its way forward).
    try:
        apps.get_model("articles", "Article")._meta.get_field("search_document")
    except (LookupError, FieldDoesNotExist):
        return
    search.install(connections[using])
