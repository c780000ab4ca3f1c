"""A front as a reader sees it in Chromium, on a desktop (1280 px), a small laptop (1000 px) and a phone (390 px):
the lead in the first screen, nothing to scroll sideways, no third of the screen left empty, and every card's
picture at least as wide as it is drawn (story_card.html's sizes follow the grid of static/css/site.css).
Screenshots of each width are saved under the test's tmp_path."""

import re
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from articles.models import Caption, Front, FrontSlot, Section
from tests.photos import image_bytes, serve_media

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WIDTHS = [1280, 1000, 390]  # 1000: three columns, where rounding once picked a rendition 1px narrow


@pytest.fixture
def arranged_site(make_article, section, make_photo):
    """Two sections of stories with pictures; the home page led by a story from deep in the archive."""
    europe = Section.objects.get_or_create(slug="europe", defaults={"name": "Europe", "order": 30})[0]
    photos = [make_photo(data=image_bytes(size=(2400, 1600)), alt_text=f"Scene {n}") for n in range(2)]
    now = timezone.now()
    stories = []
    for n in range(12):
        story = make_article(
            f"{'Europe' if n % 2 else 'World'} story {n}",
            section=europe if n % 2 else section,
            standfirst=f"What happened in story {n}, in a sentence that a reader can take in at a glance.",
            published_at=now - timedelta(minutes=10 + n),
        )
        Caption.objects.create(article=story, photo=photos[n % 2], text=f"Scene of story {n}", is_lead=True)
        stories.append(story)
    lead = make_article("Harbour Wall Gives Way After Storm", published_at=now - timedelta(days=300))
    Caption.objects.create(article=lead, photo=photos[0], text="The harbour wall.", is_lead=True)
    front = Front.objects.create(approved=True, live_from=now - timedelta(minutes=1))
    FrontSlot.objects.create(front=front, article=lead, order=0)
    FrontSlot.objects.create(front=front, article=stories[7], order=1)
    return lead


def show_every_picture(page):
    """Scroll down the page as a reader does, so that lazy pictures load; then back to the top."""
    height = page.evaluate("document.documentElement.scrollHeight")
    for y in range(0, height + 1, 400):
        page.evaluate(f"window.scrollTo(0, {y})")
        page.wait_for_timeout(30)
    page.wait_for_function("[...document.images].every(img => img.complete)")
    page.evaluate("window.scrollTo(0, 0)")


def rendition_width(name):
    return int(re.search(r"-(\d+)\.\w+$", name).group(1))


def card_pictures(page):
    """Each card picture: its card's role, the width drawn and the width of the rendition the browser chose."""
    return page.evaluate(
        """[...document.querySelectorAll('article.card img')].map(img => ({
            card: img.closest('article').className, headline: img.closest('article').querySelector('a').textContent,
            drawn: img.clientWidth, natural: img.naturalWidth, src: img.currentSrc.split('/').pop()}))"""
    )


@pytest.mark.parametrize("path", ["/", "/world/"])
def test_the_front_fills_the_screen_with_pictures_sharp_enough(
    browser, live_server, media_root, arranged_site, tmp_path, path
):
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 800}, device_scale_factor=1)
        page = context.new_page()
        serve_media(page, live_server, media_root)
        page.goto(live_server.url + path)
        show_every_picture(page)
        name = "home" if path == "/" else "section"
        page.screenshot(path=tmp_path / f"{name}-{width}.png", full_page=True)

        assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
        lead = page.locator("section.front article.card--lead")
        box = lead.locator(".card-title").bounding_box()
        assert box["y"] + box["height"] <= 800, f"the lead's headline is below the first screen at {width} px"
        if path == "/":
            assert lead.locator(".card-title").text_content() == arranged_site.headline
        pictures = card_pictures(page)
        assert len(pictures) >= 7
        # naturalWidth is the rendition's width at the density sizes gave it: sizes is no narrower than drawn;
        # and the rendition chosen (its width is in its name) has at least as many pixels as are drawn.
        soft = [p for p in pictures if p["natural"] < p["drawn"] or rendition_width(p["src"]) < p["drawn"]]
        assert soft == [], f"pictures drawn wider than their rendition at {width} px"
        # The lead is the largest picture on the page.
        assert max(pictures, key=lambda p: p["drawn"])["card"] == "card card--lead"
        if width == 1280:
            # No third of the screen left empty beside the front, the blocks or the listing.
            empty = page.evaluate(
                """[...document.querySelectorAll('.front-grid, .cards, .story-list')].map(list => {
                    const box = list.getBoundingClientRect();
                    const right = Math.max(...[...list.children].map(card => card.getBoundingClientRect().right));
                    return (box.right - right) / box.width;
                })"""
            )
            assert empty and max(empty) < 1 / 3, empty
        context.close()
    connections.close_all()
