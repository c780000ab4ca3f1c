"""Topics in a real browser: picked on the story form by typing, and merged from the topics' list."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from articles.models import Article, StoryTopic, Topic
from tests.admin_browser import load, open_admin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_reporter_gives_their_draft_two_topics_by_typing_their_names(
    browser, live_server, make_user, draft_article, media_root
):
    reporter = make_user("desk-reporter", "Reporters")
    for name in ["Energy", "Elections", "Climate"]:
        Topic.objects.create(name=name, slug=name.lower())
    page, problems = open_admin(browser, live_server, media_root, reporter)
    load(page, live_server.url + reverse("admin:articles_article_change", args=[draft_article.pk]))

    for index, (typed, name) in enumerate([("ene", "Energy"), ("clim", "Climate")]):
        page.locator("#story_topics-group .add-row").get_by_text("Add another Topic").click()
        page.locator(f"#story_topics-{index} .select2-selection").click()
        page.locator(".select2-search__field").fill(typed)
        expect(page.locator(".select2-results__option")).to_have_count(1)  # Elections is not offered for "ene"
        page.locator(".select2-results__option", has_text=name).click()
    page.locator("input[name=_continue]").click()
    page.wait_for_load_state("load")

    story = Article.objects.get(pk=draft_article.pk)
    assert sorted(link.topic.name for link in story.story_topics.all()) == ["Climate", "Energy"]
    assert problems == []


def test_an_editor_merges_a_topic_into_another_and_its_old_page_redirects(
    browser, live_server, make_user, make_article, media_root
):
    editor = make_user("desk-editor", "Editors")
    Topic.objects.create(name="Energy", slug="energy")
    power = Topic.objects.create(name="Power", slug="power")
    StoryTopic.objects.create(article=make_article("Grid Upgrade Approved"), topic=power)
    page, problems = open_admin(browser, live_server, media_root, editor)
    load(page, live_server.url + reverse("admin:articles_topic_changelist"))

    page.locator(f"input[name=_selected_action][value='{power.pk}']").check()
    page.select_option("select[name=action]", "merge_selected")
    page.get_by_role("button", name="Run").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name="Merge 1 topic?")).to_be_visible()
    page.get_by_label("Merge into").select_option(label="Energy")
    page.get_by_role("button", name="Yes, merge").click()
    page.wait_for_load_state("load")

    expect(page.locator(".messagelist")).to_contain_text("Merged “Power” into “Energy”.")
    page.goto(live_server.url + "/topics/power/")
    assert page.url == live_server.url + "/topics/energy/"
    expect(page.locator("h1")).to_have_text("Energy")
    expect(page.get_by_text("Grid Upgrade Approved")).to_be_visible()
    assert problems == []
