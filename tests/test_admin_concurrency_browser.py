"""Two editors in two real browser sessions save the same story: neither loses what the other changed."""

from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from articles.models import Article
from tests.test_editor_journey import PASSWORD, make_staff

pytestmark = pytest.mark.browser


@contextmanager
def editor_session(browser, live_server, username):
    """A browser context of its own (its own cookies), logged in to the admin."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        expect(page.locator("#site-name")).to_be_visible()
        yield page
    finally:
        context.close()


@pytest.fixture
def two_editors_story(django_user_model, make_article):
    make_staff(django_user_model, "ana", "Editors")
    make_staff(django_user_model, "ben", "Editors")
    return make_article("Harbour Talks Resume", standfirst="Talks began again.", byline="Desk")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_second_editors_save_after_a_refusal_keeps_the_first_editors_standfirst(
    browser, live_server, two_editors_story
):
    url = f"{live_server.url}/admin/articles/article/{two_editors_story.pk}/change/"
    with editor_session(browser, live_server, "ana") as ana, editor_session(browser, live_server, "ben") as ben:
        ana.goto(url)
        ben.goto(url)
        ana.fill("#id_standfirst", "Negotiators returned after a two-week strike.")
        ana.click("input[name=_save]")
        expect(ana.locator(".messagelist")).to_contain_text("was changed successfully")

        ben.fill("#id_headline", "Harbour Talks Resume After Strike")
        ben.click("input[name=_save]")
        expect(ben.locator(".messagelist")).to_contain_text("Merged with ana's changes to standfirst.")

        ben.goto(url)  # what Ben sees now, and saves once more, changes nothing of Ana's
        expect(ben.locator("#id_standfirst")).to_have_value("Negotiators returned after a two-week strike.")
        ben.click("input[name=_save]")
        expect(ben.locator(".messagelist")).to_contain_text("No changes to save")

    two_editors_story.refresh_from_db()
    assert two_editors_story.headline == "Harbour Talks Resume After Strike"
    assert two_editors_story.standfirst == "Negotiators returned after a two-week strike."


@pytest.mark.parametrize(
    "choice, headline", [("theirs", "Harbour Talks Collapse"), ("mine", "Harbour Talks Resume After Strike")]
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_both_editors_change_the_headline_and_the_second_chooses_which_to_keep(
    browser, live_server, two_editors_story, choice, headline
):
    url = f"{live_server.url}/admin/articles/article/{two_editors_story.pk}/change/"
    with editor_session(browser, live_server, "ana") as ana, editor_session(browser, live_server, "ben") as ben:
        ana.goto(url)
        ben.goto(url)
        ana.fill("#id_headline", "Harbour Talks Collapse")
        ana.fill("#id_standfirst", "Negotiators walked out.")
        ana.click("input[name=_save]")
        expect(ana.locator(".messagelist")).to_contain_text("was changed successfully")

        ben.fill("#id_headline", "Harbour Talks Resume After Strike")
        ben.fill("#id_byline", "Ben Reporter")
        ben.click("input[name=_save]")
        panel = ben.locator(".edit-conflicts")
        expect(ben.locator(".errornote")).to_be_visible()
        expect(panel.locator(".edit-conflict-theirs")).to_have_text("Harbour Talks Collapse")
        expect(panel.locator(".edit-conflict-mine")).to_have_text("Harbour Talks Resume After Strike")
        expect(ben.locator("#id_standfirst")).to_have_value("Negotiators walked out.")  # Ana's, merged in
        # Styled from the static stylesheet (the CSP allows no inline style): line breaks of a body show.
        expect(panel.locator(".edit-conflict-theirs")).to_have_css("white-space", "pre-wrap")

        ben.check(f"input[name=resolve_headline][value={choice}]")
        ben.click("input[name=_save]")
        expect(ben.locator(".messagelist")).to_contain_text("was changed successfully")

    story = Article.objects.get(pk=two_editors_story.pk)
    assert (story.headline, story.standfirst, story.byline) == (headline, "Negotiators walked out.", "Ben Reporter")
