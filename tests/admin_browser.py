"""The admin in a real browser: a desk with something on every kind of admin page, and a page that keeps what
the browser's console says (the Content-Security-Policy's refusals, scripts' errors, files that failed to load).

Media are answered from MEDIA_ROOT by the browser's router, since the test server (DEBUG off) serves none.
"""

from datetime import timedelta

import reversion
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from reversion.models import Version

from articles.models import Article, Caption, ImportJob, Photo, PreviewLink
from articles.photos.tasks import make_renditions
from tests.photos import image_bytes, serve_media, upload

LONG_HEADLINE = "Harbour Authority Approves Flood Barrier After Three Years of Delays and Public Hearings"


def make_desk(editor, section):
    """Stories, photos, history and a preview link, as a desk has them; the admin's pages about them, by name."""
    story = Article.objects.create(
        headline=LONG_HEADLINE,
        slug="flood-barrier",
        section=section,
        body="The barrier will close in storms.\n\nWork starts in spring.",
        status=Article.Status.DRAFT,
    )
    # A tall upload: 1600x2400, which must still show as a thumbnail.
    tall = Photo.objects.create(
        image=upload("harbour-wall.jpg", image_bytes(size=(1600, 2400))), credit="Reuters", alt_text="The wall"
    )
    make_renditions.call(tall.pk)  # as a worker does after the save
    tall.refresh_from_db()
    waiting = Photo.objects.create(credit="Reuters")  # a wire caption came before its picture
    Caption.objects.create(article=story, photo=tall, text="The harbour wall at dawn.", is_lead=True)
    Caption.objects.create(article=story, photo=waiting, text="The mayor at the hearing.", order=1)
    for body in [None, "The barrier will close in storms.\n\nWork starts in spring, the council said."]:
        with reversion.create_revision():
            reversion.set_user(editor)
            if body:
                story.body = body
            story.save()
    Article.objects.create(
        headline="Storm Season Starts",
        slug="storm-season",
        section=section,
        body="Forecasters expect a busy season.",
        status=Article.Status.PUBLISHED,
        published_at=timezone.now() - timedelta(hours=1),
    )
    client = Client()
    client.force_login(editor)
    links = reverse("admin:articles_article_preview_links", args=[story.pk])
    assert client.post(links, {"hours": 24}).status_code == 302
    assert PreviewLink.objects.filter(article=story).exists()
    version = Version.objects.get_for_object(story).first()
    summary = "created 3, updated 1, unchanged 0, conflicts 1, errors 1"
    job = ImportJob.objects.create(
        user=editor,
        name="wire-0600.txt",
        file="wire-0600.dump",
        state=ImportJob.State.DONE,
        confirmed_at=timezone.now(),
        started_at=timezone.now() - timedelta(seconds=40),
        finished_at=timezone.now(),
        stories_read=6,
        stories_total=6,
        report={
            "summary": summary,
            "created": 3,
            "updated": 1,
            "unchanged": 0,
            "conflicts": ["wire-0600.txt:12: Harbour Flooded changed at the source and on the desk: kept as it is"],
            "errors": ["wire-0600.txt:40: story has no headline"],
        },
    )
    return {
        "story list": reverse("admin:articles_article_changelist"),
        "story": reverse("admin:articles_article_change", args=[story.pk]),
        "history": reverse("admin:articles_article_history", args=[story.pk]),
        "changes": reverse("admin:articles_article_changes", args=[story.pk, version.pk]),
        "import": reverse("admin:articles_article_import"),
        "import jobs": reverse("admin:articles_importjob_changelist"),
        "import job": job.get_absolute_url(),
        "preview links": links,
        "photo list": reverse("admin:articles_photo_changelist"),
        "photo": reverse("admin:articles_photo_change", args=[tall.pk]),
        "photo waiting for its picture": reverse("admin:articles_photo_change", args=[waiting.pk]),
    }


def open_admin(browser, live_server, media_root, user, width=1280):
    """A browser page logged in as `user`, and the list its console's errors go to."""
    client = Client()
    client.force_login(user)
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )

    serve_media(page, live_server, media_root)
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(f"{page.url}: {message.text}"))
    page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
    return page, problems


def load(page, url):
    """Open a page and wait until its pictures have loaded (or failed to)."""
    page.goto(url)
    page.wait_for_load_state("load")
