"""An editor's day in a real browser (Debian's Chromium via Playwright): log in, edit, publish, see it live."""

from contextlib import contextmanager

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from articles.models import Article, Section

pytestmark = pytest.mark.browser

PASSWORD = "a long demo passphrase"


@contextmanager
def browser_page(browser):
    """A page in the session's Chromium (tests/conftest.py)."""
    page = browser.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        page.close()


def make_staff(django_user_model, username, group):
    user = django_user_model.objects.create_user(username, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()


@pytest.fixture
def story_in_review(db):
    return Article.objects.create(
        headline="Harbour Talks Resume",
        slug="harbour-talks-resume",
        section=Section.objects.get(slug="world"),
        body="Negotiators met again on Monday.\n\nNo date was set for a deal.",
        status=Article.Status.REVIEW,
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_editor_edits_publishes_and_sees_the_story_on_the_site(
    browser, live_server, django_user_model, story_in_review
):
    make_staff(django_user_model, "desk-editor", "Editors")
    change_url = f"{live_server.url}/admin/articles/article/{story_in_review.pk}/change/"

    with browser_page(browser) as page:
        log_in(page, live_server, "desk-editor")
        page.goto(change_url)
        page.fill("#id_headline", "Harbour Talks Resume After Strike")
        page.select_option("#id_status", "published")
        page.click("input[name=_save]")
        expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

        page.goto(change_url)
        page.click("a.viewsitelink")
        expect(page.locator("h1")).to_have_text("Harbour Talks Resume After Strike")
        public_path = page.url.removeprefix(live_server.url)

    story_in_review.refresh_from_db()
    assert story_in_review.status == Article.Status.PUBLISHED
    assert public_path == story_in_review.get_absolute_url()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_reporter_in_the_browser_can_submit_for_review_but_not_publish(
    browser, live_server, django_user_model, story_in_review
):
    story_in_review.status = Article.Status.DRAFT
    story_in_review.save()
    make_staff(django_user_model, "desk-reporter", "Reporters")

    with browser_page(browser) as page:
        log_in(page, live_server, "desk-reporter")
        page.goto(f"{live_server.url}/admin/articles/article/{story_in_review.pk}/change/")
        options = page.locator("#id_status option").all_inner_texts()
        page.select_option("#id_status", "review")
        page.click("input[name=_save]")
        expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    assert options == ["Draft", "In review"]
    story_in_review.refresh_from_db()
    assert story_in_review.status == Article.Status.REVIEW
