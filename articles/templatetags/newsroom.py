import hashlib
import json

from django import template
from django.conf import settings
from django.core.cache import InvalidCacheBackendError, caches
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from .. import renditions

register = template.Library()

# As django.utils.html.json_script: nothing in the data can close the <script> element.
JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.filter
def json_ld(data):
    """Render data as a JSON-LD block: data for search engines, never executed, so CSP allows it."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(JSON_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))


@register.simple_tag(takes_context=True)
def story_card(context, article, **options):
    """A story's card (articles/includes/story_card.html), rendered once per version of what it shows.

    Listings show the same cards again and again (home, section pages, related stories), and rendering
    one costs more than the rest of a page's work per story. The key is made of the data the card
    shows, never of time, so a cached card cannot go stale and needs no invalidation: each process
    keeps its own (the "fragments" cache). Search cards carry a snippet of the query and are not kept.
    """
    template = context.template.engine.get_template("articles/includes/story_card.html")
    values = {"article": article, **options}
    try:
        fragments = caches["fragments"]
    except InvalidCacheBackendError:  # settings without a fragments cache: render every time
        fragments = None
    if fragments is None or options.get("snippet"):
        return template.render(context.new(values))
    key = card_key(article, options)
    html = fragments.get(key)
    if html is None:
        html = template.render(context.new(values))
        fragments.set(key, html, timeout=None)
    return html


def card_key(article, options):
    """Everything a card's HTML depends on. Every save of a story bumps its version and updated_at."""
    section = article.section
    parts = [
        article.pk,
        article.version,
        article.updated_at.isoformat(),
        article.published_at and article.published_at.isoformat(),
        article.headline,
        article.language,
        section.slug,
        section.name,
        settings.TIME_ZONE,
        sorted(options.items()),
    ]
    caption = article.lead_caption if options.get("with_photo") else None
    photo = caption.photo if caption else None
    if photo and photo.image:
        parts += [photo.pk, photo.image.name, photo.width, photo.height, photo.alt_text, photo.renditions_key]
        if photo.width:
            # The rendition names: the focal point, the configured widths and formats, the code's version.
            parts.append(renditions.rendition_key(photo))
    return "card:" + hashlib.sha256(repr(parts).encode()).hexdigest()
