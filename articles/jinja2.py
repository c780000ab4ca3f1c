"""The public site's templates (templates/jinja2/) run on Jinja2: what they may call, and story cards.

Rendering was half of a public page's work under Django's template language (docs/performance.md);
Jinja2 compiles each template to Python once per process. The admin keeps Django's templates.
"""

import json
import threading
from functools import lru_cache

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.template import defaultfilters
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from jinja2 import ChainableUndefined, Environment, pass_environment
from markupsafe import Markup

from .photos import renditions

# As django.utils.html.json_script: nothing in the data can close the <script> element.
JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def environment(**options):
    # As lenient as Django's templates: a missing value, or an attribute of one, renders as nothing.
    env = Environment(**options | {"undefined": ChainableUndefined})
    env.globals.update(
        url=url,
        static=static,
        now=timezone.localtime,
        story_card=story_card,
        photo_picture=photo_picture,
        photo_social_url=photo_social_url,
    )
    env.filters.update(
        date=date,
        json_ld=json_ld,
        truncatewords=defaultfilters.truncatewords,
        truncatechars=defaultfilters.truncatechars,
        floatformat=defaultfilters.floatformat,
        pluralize=defaultfilters.pluralize,
    )
    return env


def url(name, **kwargs):
    """reverse(), remembered: the masthead alone links to a dozen URLs on every page, and a URL's path
    depends only on its name, arguments, URLconf and script prefix."""
    return _reverse(get_script_prefix(), get_urlconf(), name, tuple(sorted(kwargs.items())))


@lru_cache(maxsize=4096)
def _reverse(prefix, urlconf, name, kwargs):
    return reverse(name, urlconf=urlconf, kwargs=dict(kwargs))


def date(value, format):
    """Django's date filter, in the newsroom's time zone as Django's templates show times."""
    if value is None or value == "":
        return ""
    return defaultfilters.date(timezone.localtime(value) if timezone.is_aware(value) else value, format)


def json_ld(data):
    """Render data as a JSON-LD block: data for search engines, never executed, so CSP allows it."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(JSON_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))


def photo_picture(photo, crop="full"):
    """The renditions of a photo for <picture> (the picture macro of articles/includes/photos.html), or
    None without an image or before a worker has made them (the caption and credit show alone). Built from
    the photo's database fields: rendering a page never opens an image."""
    return renditions.picture(photo, crop) if photo else None


def photo_social_url(request, photo):
    """Absolute URL of the photo's 1200x630 share image (og:image), or "" without it (no image, or its
    renditions not made yet)."""
    if not photo or not renditions.ready(photo):
        return ""
    url = renditions.url(photo, renditions.renditions(photo, "social")[0])
    return request.build_absolute_uri(url) if request else url


# Rendered cards by card_key(), in this process: such a key cannot go stale, so there is nothing to share
# between processes or to invalidate, and a plain dict serves a listing's 20 cards in a fraction of the
# time a cache backend took (key validation, pickling). The oldest go first when it is full.
CARD_TEMPLATE = "articles/includes/story_card.html"
CARDS_KEPT = 5000
_cards = {}
_cards_lock = threading.Lock()


@pass_environment
def story_card(env, article, **options):
    """A story's card (articles/includes/story_card.html), rendered once per version of what it shows.

    Listings show the same cards again and again (home, section pages, related stories), and rendering
    one costs more than the rest of a page's work per story. The key is made of the data the card
    shows, never of time, so a kept card cannot go stale and needs no invalidation. Search cards carry
    a snippet of the query and are not kept.
    """
    if options.get("snippet"):
        return Markup(env.get_template(CARD_TEMPLATE).render(article=article, **options))
    key = card_key(article, options)
    html = _cards.get(key)
    if html is None:
        html = Markup(env.get_template(CARD_TEMPLATE).render(article=article, **options))
        with _cards_lock:
            if len(_cards) >= CARDS_KEPT:
                del _cards[next(iter(_cards))]
            _cards[key] = html
    return html


def card_key(article, options):
    """Everything a card's HTML depends on. Every save of a story bumps its version and updated_at."""
    section = article.section
    parts = [
        article.pk,
        article.version,
        article.updated_at,
        article.published_at,
        article.headline,
        article.language,
        section.slug,
        section.name,
        settings.TIME_ZONE,
        tuple(sorted(options.items())),
    ]
    if options.get("with_photo"):
        parts += lead_photo_key(article)
    return tuple(parts)


def lead_photo_key(article):
    """What a card's photo depends on: with the focal point, what names its renditions (the configured
    widths and formats and the code's version are the same for the whole process)."""
    photo = article.lead_photo_values()
    if not photo.get("image"):
        return ()
    # The image as the file's name, from a FieldFile or the JSON.
    return tuple(str(value) if name == "image" else value for name, value in photo.items())
