"""Arranging the home page in a real browser, as an editor does: stories picked by typing their headlines,
reordered by keyboard and by drag, one pinned; a second arrangement scheduled a few seconds ahead goes live by
itself; a pinned story withdrawn in the story admin leaves its place to the next story. And the fronts' admin
pages on a phone. Screenshots go to a temporary folder (printed with -s) to look at."""

import re
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from articles.models import Front
from tests.admin_browser import load, open_admin
from tests.test_accessibility import AXE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOTS = Path(tempfile.gettempdir()) / "newsroom-admin-screenshots"
ADD = reverse("admin:articles_front_add")

HEADLINES = [
    "Floods Hit the Coast",
    "Storm Season Starts",
    "Council Passes the Budget",
    "Harbour Reopens After Repairs",
    "Mayor Announces Transport Plan",
    "Schools Reopen in the Valley",  # the oldest: on no front until a place frees up
]


@pytest.fixture
def desk(make_user, make_article):
    editor = make_user("desk-editor", "Editors")
    now = timezone.now()
    stories = [
        make_article(headline, published_at=now - timedelta(hours=1, minutes=i)) for i, headline in enumerate(HEADLINES)
    ]
    return editor, stories


def shoot(page, name):
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / f"fronts-{name}.png", full_page=True)
    print(SHOTS / f"fronts-{name}.png")


def pick_story(page, index, typed, headline):
    """Add a row and choose its story by typing words of its headline, as an editor does."""
    page.locator("#slots-group .add-row a").click()
    page.locator(f"#slots-{index} .select2-selection").click()
    page.locator(".select2-search__field").fill(typed)
    page.locator(".select2-results__option", has_text=headline).click()


def rows(page):
    """The headlines of the slots, in the order the form shows them."""
    return [
        text.rsplit(" — ", 1)[0]
        for text in page.locator(
            "#slots-group tr.form-row:not(.empty-form) .select2-selection__rendered"
        ).all_inner_texts()
    ]


def test_an_editor_arranges_the_home_page_schedules_the_next_and_a_withdrawn_pinned_story_leaves_it(
    browser, live_server, desk, media_root
):
    editor, stories = desk
    page, problems = open_admin(browser, live_server, media_root, editor)
    load(page, live_server.url + ADD)
    page.fill("#id_title", "Morning")
    page.check("#id_approved")
    for index, (typed, headline) in enumerate(
        [("floods", HEADLINES[0]), ("storm", HEADLINES[1]), ("budget", HEADLINES[2]), ("harbour", HEADLINES[3])]
    ):
        pick_story(page, index, typed, headline)
    assert rows(page) == HEADLINES[:4]
    expect(page.locator("#slots-0 .slot-position")).to_have_text("Lead")
    expect(page.locator("#slots-2 .slot-position")).to_have_text("3")

    # By keyboard: from the third story's pin, Tab reaches its "Move up" button; Enter moves it, twice.
    page.locator("#slots-2 .field-pinned_until input").last.focus()
    for _ in range(4):
        if page.evaluate("document.activeElement.classList.contains('slot-up')"):
            break
        page.keyboard.press("Tab")
    up = page.locator("#slots-2 .slot-up")
    expect(up).to_be_focused()
    expect(up).to_have_attribute("aria-label", "Move up: “Council Passes the Budget”")
    page.keyboard.press("Enter")
    expect(page.locator("#slots-group .slot-announcer")).to_have_text(
        "Moved “Council Passes the Budget” to position 2."
    )
    expect(up).to_be_focused()  # the focus stays on the moved story's button
    page.keyboard.press("Enter")
    expect(page.locator("#slots-group .slot-announcer")).to_have_text(
        "Moved “Council Passes the Budget” to position 1, the lead."
    )
    expect(up).to_be_focused()
    expect(up).to_have_attribute("aria-disabled", "true")
    assert rows(page) == [HEADLINES[2], HEADLINES[0], HEADLINES[1], HEADLINES[3]]
    expect(page.locator("#slots-2 .slot-position")).to_have_text("Lead")  # the row moved, its label with it

    # By drag: the harbour story's handle onto the second row's upper half.
    page.locator("#slots-3 .slot-handle").drag_to(page.locator("#slots-0"), target_position={"x": 40, "y": 4})
    assert rows(page) == [HEADLINES[2], HEADLINES[3], HEADLINES[0], HEADLINES[1]]
    expect(page.locator("#slots-group .slot-announcer")).to_have_text(
        "Moved “Harbour Reopens After Repairs” to position 2."
    )

    # A pin on the floods story (now third) until tomorrow at noon.
    tomorrow = timezone.localtime() + timedelta(days=1)
    page.fill("#id_slots-0-pinned_until_0", tomorrow.strftime("%Y-%m-%d"))
    page.fill("#id_slots-0-pinned_until_1", "12:00:00")
    shoot(page, "1280-arranged")
    page.locator("input[name=_continue]").click()
    page.wait_for_load_state("load")

    front = Front.objects.get()
    slots = list(front.slots.select_related("article"))
    assert [slot.article.headline for slot in slots] == [HEADLINES[2], HEADLINES[3], HEADLINES[0], HEADLINES[1]]
    assert timezone.localtime(slots[2].pinned_until).strftime("%Y-%m-%d %H:%M") == tomorrow.strftime("%Y-%m-%d 12:00")
    assert front.approved and front.title == "Morning"
    # The saved form comes back in the saved order, the lead first.
    assert rows(page) == [HEADLINES[2], HEADLINES[3], HEADLINES[0], HEADLINES[1]]
    expect(page.locator("#slots-0 .slot-position")).to_have_text("Lead")
    assert page.locator(".object-tools").get_by_role("link", name="Preview", exact=True).get_attribute(
        "href"
    ) == reverse("articles:front-preview", args=[front.pk])

    # Readers see it on the home page: the lead, then the top stories, in the editor's order.
    reader = browser.new_page()
    load(reader, live_server.url + "/")
    assert front_stories(reader)[:4] == [HEADLINES[2], HEADLINES[3], HEADLINES[0], HEADLINES[1]]
    expect(reader.locator("section.front article.card").first).to_have_class(re.compile(r"\bcard--lead\b"))

    # The lunchtime front, scheduled a few seconds ahead: the mayor's story leads, the floods story pinned second.
    noon = timezone.localtime() + timedelta(seconds=SCHEDULE_AHEAD)
    load(page, live_server.url + ADD)
    page.fill("#id_title", "Lunchtime")
    page.fill("#id_live_from_0", noon.strftime("%Y-%m-%d"))
    page.fill("#id_live_from_1", noon.strftime("%H:%M:%S"))
    page.check("#id_approved")
    for index, (typed, headline) in enumerate([("mayor", HEADLINES[4]), ("floods", HEADLINES[0])]):
        pick_story(page, index, typed, headline)
    page.fill("#id_slots-1-pinned_until_0", tomorrow.strftime("%Y-%m-%d"))
    page.fill("#id_slots-1-pinned_until_1", "12:00:00")
    page.locator("input[name=_save]").click()
    page.wait_for_load_state("load")
    lunchtime = page.locator("#result_list tr", has_text="Lunchtime")
    expect(lunchtime).to_contain_text("Next: goes live in")
    expect(page.locator("#result_list tr", has_text="Morning")).to_contain_text("Live now")

    load(reader, live_server.url + "/")
    assert front_stories(reader)[0] == HEADLINES[2]  # not yet: the morning front still leads with the budget
    lineup = wait_for_lead(reader, live_server.url + "/", HEADLINES[4])
    assert lineup[:2] == [HEADLINES[4], HEADLINES[0]]  # it went live by itself, nobody saved anything

    # The pinned floods story is withdrawn in the story admin: its place goes to the next story, at once.
    load(page, live_server.url + reverse("admin:articles_article_change", args=[stories[0].pk]))
    page.select_option("#id_status", "withdrawn")
    page.fill("#id_withdrawn_reason", "The flood figures were wrong.")
    page.locator("input[name=_save]").click()
    page.wait_for_load_state("load")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    load(reader, live_server.url + "/")
    refilled = front_stories(reader)
    assert HEADLINES[0] not in refilled
    assert HEADLINES[5] not in lineup and HEADLINES[5] in refilled  # no hole: the next story moved up
    assert refilled[0] == HEADLINES[4] and len(refilled) == len(lineup)
    assert problems == []


# How far ahead the lunchtime front is scheduled: time enough to save it and see the morning front still live.
SCHEDULE_AHEAD = 8


def front_stories(page):
    """The headlines of the home page's front, in order (the lead first)."""
    return page.locator("section.front[aria-labelledby=front-title] article.card .card-title a").all_inner_texts()


def wait_for_lead(page, url, headline):
    """Reload the page, as a reader would, until the front's lead is `headline` (the scheduled front went live)."""
    deadline = time.monotonic() + SCHEDULE_AHEAD + 20
    while True:
        load(page, url)
        lineup = front_stories(page)
        if lineup and lineup[0] == headline or time.monotonic() > deadline:
            return lineup
        page.wait_for_timeout(500)


@pytest.mark.parametrize("width", [1280, 390])
def test_the_fronts_pages_fit_the_screen(browser, live_server, desk, media_root, width):
    editor, stories = desk
    front = Front.objects.create(title="Morning", approved=True, live_from=timezone.now() - timedelta(hours=1))
    for order, story in enumerate(stories[:4]):
        front.slots.create(article=story, order=order)
    Front.objects.create(title="Lunchtime", approved=True, live_from=timezone.now() + timedelta(hours=2))
    page, problems = open_admin(browser, live_server, media_root, editor, width)
    for name, url in [
        ("list", reverse("admin:articles_front_changelist")),
        ("form", reverse("admin:articles_front_change", args=[front.pk])),
        ("add", ADD),
    ]:
        load(page, live_server.url + url)
        shoot(page, f"{width}-{name}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, name
    assert problems == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations_in_the_fronts_admin(browser, live_server, desk, scheme):
    editor, stories = desk
    front = Front.objects.create(title="Morning", approved=True, live_from=timezone.now() - timedelta(hours=1))
    for order, story in enumerate(stories[:4]):
        front.slots.create(article=story, order=order, pinned_until=timezone.now() + timedelta(hours=order))
    client = Client()
    client.force_login(editor)
    # bypass_csp: axe is injected as a script, which the admin's CSP would rightly refuse.
    context = browser.new_context(color_scheme=scheme, bypass_csp=True)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page = context.new_page()
    problems = {}
    for name, url in [
        ("list", reverse("admin:articles_front_changelist")),
        ("form", reverse("admin:articles_front_change", args=[front.pk])),
        ("history", reverse("admin:articles_front_history", args=[front.pk])),
    ]:
        load(page, live_server.url + url)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("async () => await axe.run(document)")
        if violations := [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in result["violations"]]:
            problems[name] = violations
    context.close()
    assert problems == {}
