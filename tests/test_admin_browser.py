"""The desk's admin pages as an editor sees them, on a laptop (1280 px) and a phone (390 px): what would make a page
hard to use (a headline a word a line, a photo filling the screen, a page wider than the phone, no way back).
Screenshots go to a temporary folder (printed with -s) to look at."""

import tempfile
from pathlib import Path

import pytest
from django.urls import reverse

from tests.admin_browser import LONG_HEADLINE, load, make_desk, open_admin
from tests.conftest import SAMPLE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOTS = Path(tempfile.gettempdir()) / "newsroom-admin-screenshots"
WIDTHS = [1280, 390]

# Elements sticking out past the window's right edge (what makes a phone scroll the whole page sideways).
OVERFLOW = """() => [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
    .filter((e) => !e.parentElement.closest(".results, .desk-table, .tabular"))
    .map((e) => e.tagName + (e.id ? "#" + e.id : "") + "." + e.className + " " + e.getBoundingClientRect().right)
    .slice(0, 5)"""


@pytest.fixture
def editor(django_user_model):
    return django_user_model.objects.create_superuser("desk", "desk@example.com", "correct horse battery")


def look(page, width, name):
    """Screenshot the page, and check it fits the window and says where it is."""
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / f"{width}-{name}.png", full_page=True)
    print(SHOTS / f"{width}-{name}.png")
    assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, page.evaluate(OVERFLOW))
    if name != "locked out":
        assert page.locator("nav .breadcrumbs").is_visible(), name


@pytest.mark.parametrize("width", WIDTHS)
def test_desk_pages_fit_the_screen_with_breadcrumbs(
    browser, live_server, editor, section, media_root, width, immediate_tasks
):
    pages = make_desk(editor, section)
    page, problems = open_admin(browser, live_server, media_root, editor, width)
    for name, url in pages.items():
        load(page, live_server.url + url)
        look(page, width, name)

    load(page, live_server.url + pages["story list"])
    headline = page.locator("#result_list th.field-headline", has_text=LONG_HEADLINE)
    # Not a word a line: at 1280 px the headline's cell is a readable width, and three lines at most.
    assert headline.bounding_box()["width"] >= 200
    if width == 1280:
        assert headline.locator("a").evaluate("a => a.getClientRects().length") <= 3  # lines
    # The tall (1600x2400) lead photo is a thumbnail: a small rendition, not the original.
    thumbnail = page.locator("#result_list td.field-lead_photo img")
    assert thumbnail.bounding_box()["height"] <= 100
    assert "/renditions/" in thumbnail.get_attribute("src")

    load(page, live_server.url + pages["photo list"])
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2
    assert page.locator("#result_list .field-thumbnail img").bounding_box()["height"] <= 100
    # Each photo is told apart: by the name it was uploaded under, or by the caption waiting for it.
    assert "harbour-wall.jpg" in rows.nth(0).inner_text() + rows.nth(1).inner_text()
    assert "The mayor at the hearing" in page.locator("#result_list").inner_text()
    assert LONG_HEADLINE in page.locator("#result_list").inner_text()

    load(page, live_server.url + pages["photo"])
    assert page.locator(".focal-point img").bounding_box()["width"] <= 32 * 16

    # The import page as the admin's forms are: aligned rows, a submit row; then its dry-run report.
    load(page, live_server.url + pages["import"])
    assert page.locator("fieldset.module.aligned .form-row").count() == 4
    page.set_input_files("#id_dump", SAMPLE)
    page.click(".submit-row input[type=submit]")
    page.wait_for_selector(".job-summary")
    look(page, width, "import dry run")

    # A bulk action's confirmation: the form it needs, the admin's way, and a way back.
    load(page, live_server.url + pages["story list"])
    page.locator("input.action-select").first.check()
    page.select_option("select[name=action]", "withdraw_selected")
    page.click("button[name=index]")
    page.wait_for_selector("text=Withdraw these stories?")
    assert page.locator("fieldset.module.aligned .form-row.field-reason").is_visible()
    assert page.get_by_role("link", name="No, take me back").is_visible()
    look(page, width, "withdraw confirmation")
    page.close()

    assert problems == []


@pytest.mark.parametrize("width", WIDTHS)
def test_locked_out_editor_is_told_for_how_long_and_the_way_back(browser, live_server, editor, settings, width):
    page = browser.new_page(viewport={"width": width, "height": 800})
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.goto(live_server.url + reverse("admin:login"))
        page.fill("#id_username", "desk")
        page.fill("#id_password", "a wrong guess")
        page.click("input[type=submit]")
    assert page.get_by_role("heading", name="Too many failed logins").is_visible()
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert f"locked for {minutes}" in page.locator("#content-main").inner_text().replace("\xa0", " ")
    look(page, width, "locked out")
    page.get_by_role("link", name="Back to the login page").click()
    assert page.locator("#id_username").is_visible()
    page.close()
