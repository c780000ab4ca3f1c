"""Photos off the request, end to end, as production runs them: an editor uploads a picture through the admin
(real HTTP, gunicorn), the save answers without making any rendition and the story shows the caption and credit
alone; a worker in its own process (`manage.py db_worker`) makes the renditions, and the story then shows the
picture, on SQLite and on PostgreSQL, with the page cache on.
"""

import time

import pytest

from .photos import image_bytes
from .production import DATABASES, Browser, db_worker, free_port, gunicorn, http_get, shell, site_env

pytestmark = pytest.mark.production

EDITOR, PASSWORD = "photo-desk", "photo worker correct horse battery"
SEED = """
import json, os
from datetime import timedelta
from django.contrib.auth.models import Group, User
from django.utils import timezone
from articles.models import Article, Caption, Photo, Section

name, password = os.environ["PHOTO_SEED"].split(":", 1)
User.objects.create_user(name, password=password, is_staff=True).groups.add(Group.objects.get(name="Editors"))
section = Section.objects.create(slug="harbour", name="Harbour", order=100)
article = Article.objects.create(
    headline="Harbour Flooded Overnight",
    slug="harbour-flooded-overnight",
    section=section,
    body="The water rose in the night.\\n\\nBoats sank at their moorings.",
    status="published",
    published_at=timezone.now() - timedelta(minutes=5),
)
photo = Photo.objects.create(credit="Reuters", alt_text="Boats in a flooded harbour")  # the picture comes later
Caption.objects.create(article=article, photo=photo, text="The harbour at dawn.", is_lead=True)
print(json.dumps({"photo": photo.pk, "url": article.get_absolute_url()}))
"""
STATE = """
import json
from articles.models import Photo
from articles.photos import renditions
photo = Photo.objects.get()
print(json.dumps({"key": photo.renditions_key, "ready": renditions.ready(photo)}))
"""


def photo_state(env):
    return shell(STATE, env)


@pytest.fixture(params=DATABASES)
def site(request, tmp_path):
    # The page cache on, each process caching in its own memory: the default set-up.
    overrides = {"DJANGO_PAGE_CACHE_SECONDS": "300", "PHOTO_SEED": f"{EDITOR}:{PASSWORD}"}
    with site_env(request.param, tmp_path, static=True, **overrides) as env:
        seeded = shell(SEED, env)
        port = free_port()
        with gunicorn(port, env, workers=2):
            yield {"env": env, "port": port, "media": tmp_path / "media", **seeded}


def lead_figure(port, url):
    response = http_get(port, url)
    assert response.status == 200, response.status
    return response.text.split('<figure class="lead-photo">', 1)[1].split("</figure>", 1)[0]


def test_renditions_of_an_admin_upload_are_made_by_a_worker_then_shown(site):
    port, url = site["port"], site["url"]
    for _ in range(4):  # every gunicorn worker has the page cached, the caption alone
        assert "<img" not in lead_figure(port, url)
    editor = Browser(port)
    editor.log_in(EDITOR, PASSWORD)
    form = editor.form(f"/admin/articles/photo/{site['photo']}/change/", having="alt_text")

    saved = editor.submit(form, files={"image": ("harbour.jpg", image_bytes(size=(2000, 1200)))})

    assert saved.status == 302, saved.text[:2000]
    assert photo_state(site["env"]) == {"key": "", "ready": False}
    assert not (site["media"] / "renditions").exists()  # the request made none
    for _ in range(4):
        figure = lead_figure(port, url)
        assert "<img" not in figure and "The harbour at dawn." in figure and "Reuters" in figure

    with db_worker(site["env"]) as worker:
        deadline = time.monotonic() + 60
        while "<picture>" not in (figure := lead_figure(port, url)):
            assert worker.poll() is None, "the worker stopped"
            assert time.monotonic() < deadline, "no renditions a minute after the upload"
            time.sleep(0.2)

    state = photo_state(site["env"])
    assert state["ready"] and f"/media/renditions/{state['key']}/full-1600.jpg 1600w" in figure
    for name in ("full-320.webp", "full-1600.jpg", "card-1600.jpg", "social-1200.jpg"):
        assert (site["media"] / "renditions" / state["key"] / name).is_file(), name
    for _ in range(4):  # every gunicorn worker, not only the one that answered first
        assert f"/media/renditions/{state['key']}/" in lead_figure(port, url)
    assert "og:image" in http_get(port, url).text
    assert "Traceback" not in worker.output(), worker.output()
