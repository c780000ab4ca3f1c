"""The photo features a browser must prove: the <picture> loads a modern format, and the focal point is set by
clicking the picture in the admin. Media are answered from MEDIA_ROOT by the browser's router, since the test
server (DEBUG off) serves no media.
"""

import pytest
from django.db import connections

from articles.models import Photo
from articles.photos import renditions
from articles.photos.tasks import make_renditions
from tests.photos import image_bytes, serve_media

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def page(browser, live_server, media_root):
    page = browser.new_page(viewport={"width": 800, "height": 900})
    serve_media(page, live_server, media_root)
    yield page
    page.close()
    # While Playwright runs, the ORM works in another context with its own connection: close it, or
    # PostgreSQL refuses to drop the test database at the end of the run.
    connections.close_all()


def test_browser_loads_the_lead_picture_in_a_modern_format(page, live_server, article_with_photo):
    page.goto(live_server.url + article_with_photo.get_absolute_url())

    lead = page.locator("figure img").first
    lead.evaluate("img => img.decode()")
    assert lead.evaluate("img => img.naturalWidth") > 0
    assert lead.evaluate("img => img.currentSrc").rsplit(".", 1)[1] in {"avif", "webp"}


def test_editor_sets_the_focal_point_by_clicking_the_picture(page, live_server, client, admin_user, make_photo):
    photo = make_photo(data=image_bytes(size=(1000, 500)))
    client.force_login(admin_user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/admin/articles/photo/{photo.pk}/change/")
    picture = page.locator(".focal-point img")
    picture.evaluate("img => img.decode()")
    box = picture.bounding_box()

    picture.click(position={"x": box["width"] * 0.8, "y": box["height"] * 0.2})
    assert float(page.locator("#id_focal_x").input_value()) == pytest.approx(0.8, abs=0.01)
    page.locator("input[name=_continue]").click()
    page.wait_for_url("**/change/")

    photo = Photo.objects.get(pk=photo.pk)
    assert (photo.focal_x, photo.focal_y) == (pytest.approx(0.8, abs=0.01), pytest.approx(0.2, abs=0.01))
    assert not renditions.ready(photo)  # the save queued them for a worker
    assert "being prepared" in page.locator(".field-preview").inner_text()

    make_renditions.call(photo.pk)
    page.reload()

    photo = Photo.objects.get(pk=photo.pk)
    assert photo.renditions_key == renditions.rendition_key(photo)
    assert photo.renditions_key in page.locator(".focal-point img").get_attribute("src")
