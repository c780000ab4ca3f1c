"""Stories in IPTC ninjs 2.2 (News in JSON), for the read API and the webhooks' deliveries.

A story's ninjs shows what its public page shows (templates/jinja2/articles/detail.html), no more: the
headline and standfirst, the body as the page renders it and as plain text, its section and topics, its
authors or else its byline, its photos with their captions, credits, alt text and ready renditions, its
corrections, and its page's address. Only for a published story (Article.objects.published()); a withdrawn
story has a tombstone instead, with nothing of the story but its id, its withdrawal and the editors' reason.

Read stories with Article.objects.for_ninjs(): a page of them then costs a constant number of queries.

`uri` is the story's API address (…/api/v1/stories/<id>/): an id never changes, where a slug, section or date
can. It is built on settings.SITE_URL when set, so it is the same whichever host a request came in on and
in webhooks, which have no request.
"""

from urllib.parse import urljoin

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from ..models import Topic, lead_of
from ..photos import renditions

SCHEMA_URI = "http://www.iptc.org/std/ninjs/ninjs-schema_2.2.json"
STANDARD = {"name": "ninjs", "version": "2.2", "schema": SCHEMA_URI}
# Media types: ninjs items are JSON; the API answers with application/json (docs/api.md says why).
HTML, TEXT = "text/html", "text/plain"


def absolute(request, path):
    """`path` (or a URL already absolute, such as a CDN's) as an absolute URL of the public site."""
    if settings.SITE_URL:
        return urljoin(f"{settings.SITE_URL}/", path)
    if request is not None:
        return request.build_absolute_uri(path)
    return urljoin("http://localhost/", path)


def story_uri(request, pk):
    return absolute(request, reverse("api:story", kwargs={"pk": pk}))


def timestamp(value):
    """RFC 3339 in UTC, as ninjs's date-time wants."""
    return timezone.localtime(value, timezone.UTC).isoformat().replace("+00:00", "Z")


def story(article, request=None):
    """The ninjs of a published story, read with Article.objects.for_ninjs()."""
    paragraphs = article.paragraphs
    plain = "\n\n".join(paragraphs)
    captions = list(article.captions.all())
    authors = [byline.author for byline in article.bylines.all()]
    corrections = list(article.corrections.all())  # newest first, as the page lists them
    url = absolute(request, article.get_absolute_url())
    headlines = [{"role": "main", "value": article.headline}]
    if article.standfirst:
        headlines.append({"role": "sub", "value": article.standfirst})
    data = {
        "uri": story_uri(request, article.pk),
        "standard": STANDARD,
        "type": "text",
        "representationtype": "full",
        "version": str(article.version),
        "firstcreated": timestamp(article.published_at),
        "versioncreated": timestamp(changed_at(article)),
        "contentcreated": timestamp(article.created_at),
        "pubstatus": "usable",
        "language": article.language,
        "slugline": article.slug,
        "altids": [{"role": "id", "value": str(article.pk)}],
        "headlines": headlines,
        "bodies": [
            {
                "role": "main",
                "contenttype": HTML,
                # As the story page renders the body: paragraphs, escaped.
                "value": "\n".join(f"<p>{escape(paragraph)}</p>" for paragraph in paragraphs),
            },
            {
                "role": "main",
                "contenttype": TEXT,
                "value": plain,
                "charcount": len(plain),
                "wordcount": len(plain.split()),
            },
        ],
        "subjects": subjects(article, request),
        # The story's page: the one rendition of a text story that readers see.
        "renditions": [{"name": "web", "href": url, "contenttype": HTML, "title": article.headline}],
    }
    if authors:
        data["by"] = ", ".join(author.name for author in authors)
        data["people"] = [
            {
                "name": author.name,
                "rel": "author",
                "uri": absolute(request, author.get_absolute_url()),
                "literal": author.slug,
            }
            for author in authors
        ]
    elif article.byline:  # a wire story: the agency's credit, as the page shows it
        data["by"] = article.byline
    if corrections:
        data["descriptions"] = [
            {"role": correction.kind, "contenttype": TEXT, "value": correction.text} for correction in corrections
        ]
    if captions:
        lead = lead_of(captions)
        ordered = [lead, *(caption for caption in captions if caption != lead)]
        data["associations"] = [
            photo(caption, "lead-photo" if caption == lead else f"photo-{number}", data["uri"], request)
            for number, caption in enumerate(ordered, start=1)
        ]
    return data


def changed_at(article):
    """The story's latest change readers can see: an edit, its publication, or a correction added since."""
    corrections = article.corrections.all()
    return max([article.updated_at, article.published_at, *(correction.created_at for correction in corrections)])


def subjects(article, request):
    """Its section, then its topics by name, as the page shows them."""
    section = article.section
    found = [
        {
            "name": section.name,
            "rel": "section",
            "uri": absolute(request, section.get_absolute_url()),
            "literal": section.slug,
        }
    ]
    topics = Topic.listed(article.topic_list) if "topic_list" in article.__dict__ else article_topics(article)
    found += [
        {"name": topic.name, "rel": "topic", "uri": absolute(request, topic.get_absolute_url()), "literal": topic.slug}
        for topic in topics
    ]
    return found


def article_topics(article):
    # A story read without with_topics() (for_ninjs() reads them): one query.
    return Topic.objects.filter(story_topics__article=article.pk).order_by("name")


def photo(caption, name, story_uri, request):
    """A caption's photo as an association: the caption, the credit, the alt text, and the renditions once a
    worker has made them (until then the page shows the caption and credit alone, and so does this)."""
    picture = caption.photo
    data = {
        "name": name,
        # The photo as this story uses it: its caption is the story's.
        "uri": f"{story_uri}#photo-{picture.pk}",
        "type": "picture",
        "descriptions": [{"role": "caption", "contenttype": TEXT, "value": caption.text}] if caption.text else [],
    }
    if picture.credit:
        data["copyrightholder"] = picture.credit
        data["by"] = picture.credit
    if picture.alt_text:
        data["descriptions"].append({"role": "alt-text", "contenttype": TEXT, "value": picture.alt_text})
    if renditions.ready(picture):
        data["renditions"] = [
            {
                "name": rendition.filename,
                "href": absolute(request, renditions.url(picture, rendition)),
                "contenttype": rendition.mime_type,
                "width": rendition.width,
                "height": rendition.height,
            }
            for crop in ("full", "social")
            for rendition in renditions.renditions(picture, crop)
        ]
    return {key: value for key, value in data.items() if value != []}


def tombstone(article, request=None):
    """What is left of a withdrawn story: its id, when it was withdrawn (its last change) and the editors'
    reason, as readers see it on its old page; nothing else of it."""
    data = {
        "uri": story_uri(request, article.pk),
        "standard": STANDARD,
        "type": "text",
        "representationtype": "partial",
        "pubstatus": "canceled",
        "versioncreated": timestamp(article.updated_at),
        "altids": [{"role": "id", "value": str(article.pk)}],
    }
    if article.withdrawn_reason:
        data["descriptions"] = [{"role": "withdrawal", "contenttype": TEXT, "value": article.withdrawn_reason}]
    return data
