from django.apps import AppConfig
from django.conf import settings


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Newsroom"

    def ready(self):
        from PIL import Image

        from . import cache, checks  # noqa: F401 -- connect the page cache's signals, register the checks

        # Uploads are refused above PHOTO_MAX_MEGAPIXELS by our own check (articles/images.py); Pillow's
        # process-wide guard must not refuse, below that, a picture the settings allow.
        Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, int(settings.PHOTO_MAX_MEGAPIXELS * 1_000_000))
