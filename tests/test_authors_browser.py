"""Picking a story's authors in a real browser: the autocomplete on the story form's authors inline."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from articles.models import Article
from tests.admin_browser import load, open_admin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_an_editor_adds_two_authors_by_typing_their_names(
    browser, live_server, make_user, make_author, draft_article, media_root
):
    editor = make_user("desk-editor", "Editors")
    make_author("Omar Haddad")
    make_author("Jane Reporter")
    make_author("Olga Petrova")
    page, problems = open_admin(browser, live_server, media_root, editor)
    load(page, live_server.url + reverse("admin:articles_article_change", args=[draft_article.pk]))

    for index, (typed, name) in enumerate([("oma", "Omar Haddad"), ("jane", "Jane Reporter")]):
        page.locator("#bylines-group .add-row").get_by_text("Add another Author").click()
        page.locator(f"#bylines-{index} .select2-selection").click()
        page.locator(".select2-search__field").fill(typed)
        expect(page.locator(".select2-results__option")).to_have_count(1)  # Olga is not offered for "oma"
        page.locator(".select2-results__option", has_text=name).click()
        page.fill(f"#id_bylines-{index}-order", str(index))
    page.locator("input[name=_continue]").click()
    page.wait_for_load_state("load")

    story = Article.objects.get(pk=draft_article.pk)
    assert [b.author.name for b in story.bylines.all()] == ["Omar Haddad", "Jane Reporter"]
    assert problems == []
