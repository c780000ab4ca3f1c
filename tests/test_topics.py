"""Topics: what stories are about, several per story, each with a page of its published stories and feeds."""

import json
import re
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.urls import reverse
from django.utils import timezone

from articles import pagecache
from articles.models import Article, Author, Byline, Section, StoryTopic, Topic

ATOM = "{http://www.w3.org/2005/Atom}"


def text_of(response):
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def json_ld(page):
    return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))


def topics_of(page):
    found = re.search(r'<nav class="story-topics".*?<ul>(.*?)</ul>', page, re.S)
    return found.group(1) if found else ""


def tag(article, *topics):
    for topic in topics:
        StoryTopic.objects.create(article=article, topic=topic)


@pytest.fixture
def make_topic(db):
    def make(name, **fields):
        slug = fields.pop("slug", None) or name.lower().replace(" ", "-")
        return Topic.objects.create(name=name, slug=slug, **fields)

    return make


@pytest.fixture
def energy(make_topic):
    return make_topic("Energy", description="Oil, gas and the grid.\n\nAnd what they cost.")


@pytest.fixture
def climate(make_topic):
    return make_topic("Climate")


# The story page.


@pytest.mark.django_db
def test_a_story_lists_its_topics_as_links_and_in_json_ld(client, published_article, energy, climate):
    tag(published_article, energy, climate)
    page = text_of(client.get(published_article.get_absolute_url()))
    assert topics_of(page) == (
        '<li><a href="/topics/climate/">Climate</a></li><li><a href="/topics/energy/">Energy</a></li>'
    )
    assert json_ld(page)["keywords"] == ["Climate", "Energy"]


@pytest.mark.django_db
def test_a_story_without_topics_shows_none(client, published_article):
    page = text_of(client.get(published_article.get_absolute_url()))
    assert "story-topics" not in page and "keywords" not in json_ld(page)


@pytest.mark.django_db
def test_related_stories_prefer_the_most_shared_topics_then_the_newest_then_the_section(
    client, make_article, energy, climate, make_topic, draft_article
):
    now = timezone.now()
    elsewhere = Section.objects.create(name="Business", slug="business")
    story = make_article("Grid Upgrade Announced", published_at=now - timedelta(hours=5))
    both = make_article("Both Topics Older", section=elsewhere, published_at=now - timedelta(days=3))
    one_newer = make_article("Energy Only Newer", section=elsewhere, published_at=now - timedelta(hours=2))
    one_older = make_article("Energy Only Older", section=elsewhere, published_at=now - timedelta(days=2))
    same_section = make_article("Same Section Story", published_at=now - timedelta(hours=3))
    unrelated = make_article("Unrelated Business Story", section=elsewhere, published_at=now - timedelta(hours=1))
    tag(story, energy, climate)
    tag(both, energy, climate)
    tag(one_newer, energy)
    tag(one_older, energy)
    tag(draft_article, energy, climate)
    tag(unrelated, make_topic("Markets"))

    page = text_of(client.get(story.get_absolute_url()))
    related = page[page.index('id="related-title"') :]

    assert "Related stories</h2>" in related
    order = [related.index(s.headline) for s in (both, one_newer, one_older, same_section)]
    assert order == sorted(order)
    assert draft_article.headline not in related and unrelated.headline not in related


# The topic page.


@pytest.mark.django_db
def test_a_topic_page_lists_its_published_stories_newest_first(
    client, make_article, energy, climate, draft_article, review_article, withdrawn_article, embargoed_article
):
    now = timezone.now()
    older = make_article("Older Story", published_at=now - timedelta(days=2))
    newer = make_article("Newer Story", published_at=now - timedelta(hours=1))
    other = make_article("Climate Only Story")
    for story in [older, newer, draft_article, review_article, withdrawn_article, embargoed_article]:
        tag(story, energy)
    tag(other, climate)

    page = text_of(client.get("/topics/energy/"))

    assert page.index("Newer Story") < page.index("Older Story")
    for hidden in [other, draft_article, review_article, withdrawn_article, embargoed_article]:
        assert hidden.headline not in page
    assert '<h1 class="page-title">Energy</h1>' in page
    assert "<p>Oil, gas and the grid.</p><p>And what they cost.</p>" in page
    assert '<link rel="alternate" type="application/rss+xml"' in page
    assert 'href="/topics/energy/feed/"' in page and 'href="/topics/energy/feed/atom/"' in page
    assert json_ld(page)["@type"] == "CollectionPage"


@pytest.mark.django_db
def test_a_topic_page_is_paginated_like_a_section(client, many_articles, energy):
    for story in many_articles(45):
        tag(story, energy)
    first, last = text_of(client.get("/topics/energy/")), text_of(client.get("/topics/energy/?page=3"))
    assert "Page 1 of 3" in first and "Story number 0<" in first and "Story number 20<" not in first
    assert "Page 3 of 3" in last and "Story number 44<" in last
    assert client.get("/topics/energy/?page=4").status_code == 404


@pytest.mark.django_db
def test_a_topic_without_published_stories_has_a_page_that_says_so(client, energy, draft_article):
    tag(draft_article, energy)
    page = text_of(client.get("/topics/energy/"))
    assert "No published stories on Energy yet." in page and draft_article.headline not in page


@pytest.mark.django_db
def test_an_unknown_topic_is_not_found(client):
    assert client.get("/topics/nothing-here/").status_code == 404
    assert client.get("/topics/nothing-here/feed/").status_code == 404
    assert client.get("/topics/nothing-here/feed/atom/").status_code == 404


@pytest.mark.django_db
def test_a_section_cannot_take_the_address_of_the_topic_pages(editor_client):
    response = editor_client.post(
        reverse("admin:articles_section_add"),
        {
            "name": "Topics",
            "slug": "topics",
            "order": 0,
            "routing_rules-TOTAL_FORMS": 0,
            "routing_rules-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "taken by the site" in str(response.context["adminform"].form.errors["slug"])
    assert not Section.objects.filter(slug="topics").exists()


# Feeds and the sitemap.


def xml(client, url):
    return ElementTree.fromstring(text_of(client.get(url)).encode())


@pytest.mark.django_db
def test_a_topics_feeds_list_its_published_stories_only(client, make_article, energy, draft_article):
    mine = make_article("Pipeline Approved")
    make_article("Harbour Reopens")
    tag(mine, energy)
    tag(draft_article, energy)
    rss = xml(client, "/topics/energy/feed/").find("channel")
    assert [item.findtext("title") for item in rss.iter("item")] == [mine.headline]
    assert rss.findtext("title").endswith("Energy")
    atom = xml(client, "/topics/energy/feed/atom/")
    assert [entry.findtext(f"{ATOM}title") for entry in atom.iter(f"{ATOM}entry")] == [mine.headline]


@pytest.mark.django_db
def test_the_sitemap_lists_topics_with_published_stories(client, published_article, draft_article, energy, climate):
    tag(published_article, energy)
    tag(draft_article, climate)
    assert "/sitemap-topics.xml" in text_of(client.get("/sitemap.xml"))
    sitemap = text_of(client.get("/sitemap-topics.xml"))
    assert "http://testserver/topics/energy/" in sitemap and "/topics/climate/" not in sitemap


# The page cache: a topic's page goes stale the moment anything it shows changes.


def cached(client, url):
    client.get(url)
    return client.get(url).headers.get("X-Page-Cache") == "hit"


@pytest.mark.django_db
def test_withdrawing_a_topics_story_takes_it_off_its_cached_page_and_feeds_at_once(client, published_article, energy):
    tag(published_article, energy)
    urls = ["/topics/energy/", "/topics/energy/feed/", "/topics/energy/feed/atom/"]
    for url in urls:
        assert cached(client, url) and published_article.headline in text_of(client.get(url))

    published_article.status = Article.Status.WITHDRAWN
    published_article.withdrawn_reason = "Retracted."
    published_article.save()

    for url in urls:
        assert published_article.headline not in text_of(client.get(url)), url
    assert "No published stories on Energy yet." in text_of(client.get("/topics/energy/"))


@pytest.mark.django_db
def test_adding_or_removing_a_topic_shows_on_cached_pages_at_once(client, published_article, energy):
    story, page = published_article.get_absolute_url(), energy.get_absolute_url()
    assert cached(client, story) and cached(client, page)

    link = StoryTopic.objects.create(article=published_article, topic=energy)
    assert ">Energy</a>" in topics_of(text_of(client.get(story)))
    assert published_article.headline in text_of(client.get(page))

    link.delete()
    assert "story-topics" not in text_of(client.get(story))
    assert published_article.headline not in text_of(client.get(page))


@pytest.mark.django_db
def test_a_topic_renamed_is_renamed_on_its_cached_page_and_its_stories(client, published_article, energy):
    tag(published_article, energy)
    story = published_article.get_absolute_url()
    assert cached(client, story) and cached(client, "/topics/energy/")

    energy.name, energy.description = "Energy and power", "Now with the grid."
    energy.save()

    assert ">Energy and power</a>" in topics_of(text_of(client.get(story)))
    page = text_of(client.get("/topics/energy/"))
    assert "Energy and power" in page and "Now with the grid." in page


@pytest.mark.django_db
def test_a_topic_whose_slug_changes_leaves_no_cached_page_at_the_old_address(client, energy):
    assert cached(client, "/topics/energy/")
    energy.slug = "power"
    energy.save()
    assert client.get("/topics/energy/").status_code == 404
    assert "Energy" in text_of(client.get("/topics/power/"))


# The desk.


def change_url(article):
    return reverse("admin:articles_article_change", args=[article.pk])


def save_with_topics(client, article, *topics):
    """Save the story's change form with these topics, as the autocomplete widgets submit them."""
    from tests.admin_forms import load_change_form

    url = change_url(article)
    data = load_change_form(client, url)
    existing = int(data["story_topics-INITIAL_FORMS"])
    for index in range(existing):
        data[f"story_topics-{index}-DELETE"] = "on"
    for offset, topic in enumerate(topics):
        data[f"story_topics-{existing + offset}-topic"] = str(topic.pk)
    data["story_topics-TOTAL_FORMS"] = str(existing + len(topics))
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    return response


def latest_revision(article):
    from reversion.models import Version

    return Version.objects.get_for_object(article).first()


@pytest.mark.django_db
def test_an_editor_picks_a_storys_topics_and_they_are_in_its_revision_and_its_diff(
    client, editor_client, published_article, energy, climate
):
    save_with_topics(editor_client, published_article, energy, climate)

    assert ">Energy</a>" in topics_of(text_of(client.get(published_article.get_absolute_url())))
    latest = latest_revision(published_article)
    links = [v for v in latest.revision.version_set.all() if v._model is StoryTopic]
    assert sorted(v.field_dict["topic_id"] for v in links) == sorted([energy.pk, climate.pk])
    changes = editor_client.get(reverse("admin:articles_article_changes", args=[published_article.pk, latest.pk]))
    assert "Climate, Energy" in changes.content.decode()


@pytest.mark.django_db
def test_reverting_a_story_brings_back_its_topics_as_they_were(
    client, editor_client, published_article, energy, climate
):
    from tests.admin_forms import read_form

    save_with_topics(editor_client, published_article, energy)
    first = latest_revision(published_article)
    save_with_topics(editor_client, published_article, climate)
    assert ">Climate</a>" in topics_of(text_of(client.get(published_article.get_absolute_url())))

    url = reverse("admin:articles_article_revision", args=[published_article.pk, first.pk])
    page = editor_client.get(url)
    assert editor_client.post(url, read_form(page.content.decode(), "article_form")).status_code == 302

    assert [link.topic for link in published_article.story_topics.all()] == [energy]
    assert topics_of(text_of(client.get(published_article.get_absolute_url()))).count("<li>") == 1


@pytest.mark.django_db
def test_the_same_topic_twice_on_a_story_is_refused_with_a_message(editor_client, published_article, energy):
    from tests.admin_forms import load_change_form

    data = load_change_form(editor_client, change_url(published_article))
    data |= {"story_topics-TOTAL_FORMS": "2", "story_topics-0-topic": energy.pk, "story_topics-1-topic": energy.pk}
    response = editor_client.post(change_url(published_article), data)
    assert response.status_code == 200
    assert "Please correct the duplicate data for topic." in response.content.decode()
    assert not published_article.story_topics.exists()


@pytest.mark.django_db
def test_the_story_form_finds_topics_by_autocomplete(reporter_client, draft_article, energy, climate):
    params = {"term": "ener", "app_label": "articles", "model_name": "storytopic", "field_name": "topic"}
    response = reporter_client.get(reverse("admin:autocomplete"), params)
    assert response.status_code == 200
    assert [result["text"] for result in response.json()["results"]] == ["Energy"]


@pytest.mark.django_db
def test_a_reporter_picks_topics_for_their_draft_but_only_editors_manage_topics(
    reporter_client, editor_client, draft_article, energy
):
    save_with_topics(reporter_client, draft_article, energy)
    assert [link.topic for link in draft_article.story_topics.all()] == [energy]
    data = {"name": "Water", "slug": "water", "rules-TOTAL_FORMS": 0, "rules-INITIAL_FORMS": 0}
    assert reporter_client.post(reverse("admin:articles_topic_add"), data).status_code == 403
    assert editor_client.post(reverse("admin:articles_topic_add"), data).status_code == 302
    assert Topic.objects.filter(slug="water").exists()


@pytest.mark.django_db
def test_a_reporter_cannot_change_the_topics_of_a_published_story(
    reporter_client, editor_client, published_article, energy
):
    from tests.admin_forms import load_change_form

    data = load_change_form(editor_client, change_url(published_article))
    data |= {"story_topics-TOTAL_FORMS": "1", "story_topics-0-topic": str(energy.pk)}
    assert reporter_client.post(change_url(published_article), data).status_code == 403
    assert not published_article.story_topics.exists()


@pytest.mark.django_db
def test_a_topic_page_address_is_plain_letters_digits_and_hyphens(editor_client):
    data = {"name": "الطاقة", "slug": "الطاقة", "rules-TOTAL_FORMS": 0, "rules-INITIAL_FORMS": 0}
    response = editor_client.post(reverse("admin:articles_topic_add"), data)
    assert response.status_code == 200 and "slug" in response.context["adminform"].form.errors
    data["slug"] = "energy-ar"
    assert editor_client.post(reverse("admin:articles_topic_add"), data).status_code == 302


@pytest.mark.django_db
def test_a_deleted_story_is_recovered_with_its_topics(client, editor_client, published_article, energy):
    from reversion.models import Version

    from tests.test_admin_revisions import submit_shown_form

    tag(published_article, energy)  # never saved in the admin: no revision before the delete
    editor_client.post(reverse("admin:articles_article_delete", args=[published_article.pk]), {"post": "yes"})
    assert not StoryTopic.objects.exists()

    [deleted] = Version.objects.get_deleted(Article)
    assert (
        submit_shown_form(editor_client, reverse("admin:articles_article_recover", args=[deleted.pk])).status_code
        == 302
    )
    assert [link.topic for link in Article.objects.get(pk=published_article.pk).story_topics.all()] == [energy]
    assert published_article.headline in text_of(client.get(energy.get_absolute_url()))


# Merging two topics.


def merge(client, topics, into=None):
    """The changelist's merge action as the browser posts it: first the action, then the confirmation form."""
    url = reverse("admin:articles_topic_changelist")
    selection = {"action": "merge_selected", "_selected_action": [str(t.pk) for t in topics], "index": "0"}
    confirmation = client.post(url, selection)
    if into is None:
        return confirmation
    assert confirmation.status_code == 200 and "Yes, merge" in confirmation.content.decode()
    return client.post(url, selection | {"confirm": "yes", "into": str(into.pk)})


@pytest.mark.django_db
def test_merging_topics_moves_their_stories_and_redirects_the_old_addresses(
    client, editor_client, make_article, make_topic, energy
):
    from articles.models import TopicRule

    power = make_topic("Power")
    TopicRule.objects.create(keyword="grid", topic=power)
    TopicRule.objects.create(keyword="power", topic=power)
    TopicRule.objects.create(keyword="grid", topic=energy)
    on_both = make_article("On Both Topics")
    on_power = make_article("On Power Only")
    tag(on_both, energy, power)
    tag(on_power, power)
    for url in ["/topics/energy/", "/topics/power/", on_both.get_absolute_url()]:
        assert cached(client, url)

    confirmation = merge(editor_client, [power])
    page = confirmation.content.decode()
    assert "Merge 1 topic?" in page and "/topics/power/" in page and Topic.objects.filter(pk=power.pk).exists()
    response = merge(editor_client, [power], into=energy)

    assert response.status_code == 302
    assert not Topic.objects.filter(slug="power").exists()
    assert sorted(StoryTopic.objects.values_list("article__headline", "topic__slug")) == [
        ("On Both Topics", "energy"),
        ("On Power Only", "energy"),
    ]
    for old, new in [
        ("/topics/power/", "/topics/energy/"),
        ("/topics/power/feed/", "/topics/energy/feed/"),
        ("/topics/power/feed/atom/", "/topics/energy/feed/atom/"),
        ("/topics/power/?page=2", "/topics/energy/?page=2"),
    ]:
        moved = client.get(old)
        assert (moved.status_code, moved["Location"]) == (301, new), old
    page = text_of(client.get("/topics/energy/"))
    assert "On Both Topics" in page and "On Power Only" in page
    assert topics_of(text_of(client.get(on_both.get_absolute_url()))).count("<li>") == 1
    assert sorted(TopicRule.objects.values_list("keyword", "topic__slug")) == [("grid", "energy"), ("power", "energy")]
    assert "Merged “Power” (power) into it." in str(
        editor_client.get(reverse("admin:articles_topic_history", args=[energy.pk])).content.decode()
    )


@pytest.mark.django_db
def test_a_topic_merged_twice_redirects_to_the_last_one(client, editor_client, make_topic, energy):
    power, grid = make_topic("Power"), make_topic("Grid")
    merge(editor_client, [power], into=grid)
    merge(editor_client, [grid], into=energy)
    for old in ["/topics/power/", "/topics/grid/"]:
        assert client.get(old)["Location"] == "/topics/energy/"


@pytest.mark.django_db
def test_a_merge_needs_a_topic_to_merge_into_other_than_the_merged_ones(editor_client, energy, make_topic):
    power = make_topic("Power")
    response = merge(editor_client, [energy, power], into=energy)
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert Topic.objects.count() == 2


@pytest.mark.django_db
def test_reporters_cannot_merge_topics(reporter_client, energy, make_topic):
    power = make_topic("Power")
    url = reverse("admin:articles_topic_changelist")
    data = {"action": "merge_selected", "_selected_action": [str(power.pk)], "confirm": "yes", "into": str(energy.pk)}
    reporter_client.post(url, data)
    assert Topic.objects.filter(pk=power.pk).exists()


@pytest.mark.django_db
def test_reverting_to_a_revision_with_a_topic_merged_since_gives_the_story_the_topic_it_went_into(
    client, editor_client, published_article, make_topic, energy
):
    from tests.admin_forms import read_form

    power = make_topic("Power")
    save_with_topics(editor_client, published_article, power)
    first = latest_revision(published_article)
    save_with_topics(editor_client, published_article)
    merge(editor_client, [power], into=energy)

    changes = editor_client.get(reverse("admin:articles_article_changes", args=[published_article.pk, first.pk]))
    assert "Energy (merged since)" in changes.content.decode()
    url = reverse("admin:articles_article_revision", args=[published_article.pk, first.pk])
    page = editor_client.get(url)
    assert page.status_code == 200
    response = editor_client.post(url, read_form(page.content.decode(), "article_form"))

    assert response.status_code == 302
    assert [link.topic for link in published_article.story_topics.all()] == [energy]


# Search, by topic and by author.


def search(client, **params):
    response = client.get("/search/", params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_search_filters_by_topic_and_by_author_by_their_slugs(client, make_article, make_author, energy, climate):
    from tests.conftest import write_bylines

    jane, omar = make_author("Jane Doe"), make_author("Omar Haddad")
    grid = make_article("Grid Floods Warning", body="Floods threaten the grid.")
    coast = make_article("Coast Floods Again", body="Floods on the coast.")
    inland = make_article("Inland Floods Recede", body="Floods recede.")
    tag(grid, energy, climate)
    tag(coast, climate)
    write_bylines(grid, jane)
    write_bylines(coast, jane, omar)
    write_bylines(inland, omar)

    def found(**filters):
        page = search(client, q="floods", **filters)
        return {story.headline for story in (grid, coast, inland) if story.headline in page}

    assert found(topic="energy") == {grid.headline}
    assert found(topic="climate") == {grid.headline, coast.headline}
    assert found(author="jane-doe") == {grid.headline, coast.headline}
    assert found(topic="climate", author="omar-haddad") == {coast.headline}
    assert found() == {grid.headline, coast.headline, inland.headline}
    page = search(client, q="floods", topic="climate")
    assert 'name="topic" value="climate"' in page and '<label for="id_topic">Topic</label>' in page
    assert found(topic="Energy ") == found(topic="ENERGY") == {grid.headline}  # typed as its name, any case
    assert found(author="Omar Haddad", topic="climate") == {coast.headline}


@pytest.mark.django_db
def test_search_by_an_unknown_topic_or_author_says_so_and_finds_nothing(client, published_article, energy):
    tag(published_article, energy)
    page = search(client, q="floods", topic="no-such-thing")
    assert "No such topic: “no-such-thing”." in page and published_article.headline not in page
    page = search(client, q="floods", author="nobody")
    assert "No such author: “nobody”." in page and published_article.headline not in page
    for forged in ["\x00", "x" * 5000, "énergie", "energy'; --", "ENERGY"]:
        assert client.get("/search/", {"q": "floods", "topic": forged, "author": forged}).status_code == 200


@pytest.mark.django_db
def test_search_by_topic_never_shows_hidden_stories(
    client, make_article, energy, draft_article, review_article, withdrawn_article, embargoed_article
):
    hidden = [draft_article, review_article, withdrawn_article, embargoed_article]
    for story in hidden:
        story.body = "Floods everywhere."
        story.save()
        tag(story, energy)
    tag(make_article("Visible Floods", body="Floods everywhere."), energy)
    page = search(client, q="floods", topic="energy")
    assert "Visible Floods" in page
    for story in hidden:
        assert story.headline not in page


# Import: topic rules give imported stories their topics by keyword, as routing rules give them sections.


def import_dump(*args, **options):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("import_dump", *map(str, args), stdout=out, stderr=out, **options)
    return out.getvalue()


def topics_by_story():
    return {
        headline.split()[0]: sorted(
            StoryTopic.objects.filter(article__headline=headline).values_list("topic__slug", flat=True)
        )
        for headline in Article.objects.values_list("headline", flat=True)
    }


@pytest.mark.django_db
def test_topic_rules_give_imported_stories_topics_by_whole_words_and_re_importing_changes_nothing(make_topic):
    from articles.models import TopicRule
    from tests.conftest import SAMPLE

    wagner, iran, military = make_topic("Wagner Group", slug="wagner"), make_topic("Iran"), make_topic("Military")
    TopicRule.objects.create(keyword="wagner", topic=wagner)
    TopicRule.objects.create(keyword="IRAN", topic=iran)
    TopicRule.objects.create(keyword="military intervention", topic=military)
    TopicRule.objects.create(keyword="ran", topic=make_topic("Not a whole word"))  # "Iran", "ran" inside words

    assert "created 4" in import_dump(SAMPLE)
    first = topics_by_story()
    assert first == {
        "Niger’s": ["military", "wagner"],
        "Israel": ["iran"],
        "Moscow": [],
        "Iran": ["iran"],
    }

    assert "unchanged 4" in import_dump(SAMPLE)
    assert topics_by_story() == first and StoryTopic.objects.count() == 4


@pytest.mark.django_db
def test_an_imported_storys_topic_page_lists_it_once_published(client, make_topic):
    from articles.models import TopicRule
    from tests.conftest import SAMPLE

    TopicRule.objects.create(keyword="wagner", topic=make_topic("Wagner"))
    import_dump(SAMPLE, status="published")
    assert "Niger’s Junta Asks for Help" in text_of(client.get("/topics/wagner/"))


@pytest.mark.django_db
def test_a_dry_run_gives_no_story_a_topic(make_topic):
    from articles.models import TopicRule
    from tests.conftest import SAMPLE

    TopicRule.objects.create(keyword="wagner", topic=make_topic("Wagner"))
    import_dump(SAMPLE, dry_run=True)
    assert not StoryTopic.objects.exists()


@pytest.mark.django_db
def test_a_story_changed_at_the_source_gains_the_topics_of_its_new_words_and_keeps_its_others(tmp_path, make_topic):
    from articles.models import TopicRule
    from tests.conftest import SAMPLE

    ukraine, energy = make_topic("Ukraine"), make_topic("Energy")
    TopicRule.objects.create(keyword="ukraine", topic=ukraine)
    import_dump(SAMPLE)
    moscow = Article.objects.get(headline__startswith="Moscow")
    assert not moscow.story_topics.exists()  # Ukraine comes after the paragraphs that keywords are looked for in
    tag(moscow, energy)  # an editor's choice, not a keyword's
    dump = tmp_path / "changed.txt"
    dump.write_text(
        SAMPLE.read_text().replace("went off, investigators said", "went off near Ukraine, investigators said")
    )

    assert "updated 1" in import_dump(dump)
    assert sorted(moscow.story_topics.values_list("topic__slug", flat=True)) == ["energy", "ukraine"]
    assert "unchanged 4" in import_dump(dump)
    assert moscow.story_topics.count() == 2


# The compiled queries give what their querysets give (articles/compiled.py).


def same(a, b):
    from tests.test_compiled import same

    return same(a, b)


@pytest.mark.django_db
def test_a_topic_page_is_its_slice_of_the_topics_listing(many_articles, energy, embargoed_article, make_article):
    from articles import listings

    for story in [*many_articles(25), embargoed_article]:
        tag(story, energy)
    tag(make_article("Not on it"), make_topic_named("Other"))
    now = timezone.now()
    listing = list(Article.objects.published(at=now).on_topic(energy).newest_first().values_list("pk", flat=True))
    assert len(listing) == 25
    pages = listings.topic_page
    for start in [0, 20, 40]:
        page = pages(energy.pk, now, slice(start, start + 20))
        assert same(page, list(pages.build(energy.pk, now, slice(start, start + 20))))
        page.sort(key=lambda story: (story.published_at, story.pk), reverse=True)
        assert [story.pk for story in page] == listing[start : start + 20]


@pytest.mark.django_db
def test_topic_and_author_pages_follow_their_stories_whatever_changes_them(client, many_articles, energy):
    """The links keep their stories' place in the listings (migration 0026's triggers): a story withdrawn, put
    back to draft, embargoed, re-timed, or changed by a bulk update without signals (as the importer writes)
    leaves or moves on its topic's and its authors' pages at once."""
    writer = Author.objects.create(name="Jane Reporter", slug="jane-reporter")
    stories = many_articles(6)  # Story number 0 is the newest
    for n, story in enumerate(stories):
        tag(story, energy)
        Byline.objects.create(article=story, author=writer, order=n)

    def listed(url):  # the stories on the page, in the page's order
        page = text_of(client.get(url))
        return sorted((n for n in range(6) if f"Story number {n}<" in page), key=lambda n: page.index(f"number {n}<"))

    def both():
        topic, author = listed("/topics/energy/"), listed("/authors/jane-reporter/")
        assert topic == author
        return topic

    assert both() == [0, 1, 2, 3, 4, 5]
    stories[0].status = Article.Status.WITHDRAWN
    stories[0].save()
    stories[1].status = Article.Status.DRAFT
    stories[1].save()
    stories[2].published_at = timezone.now() + timedelta(hours=1)  # embargoed
    stories[2].save()
    stories[5].published_at = timezone.now() - timedelta(minutes=1)  # the oldest is now the newest
    stories[5].save()
    assert both() == [5, 3, 4]
    Article.objects.filter(pk=stories[1].pk).update(status=Article.Status.PUBLISHED)  # no signal: bump by hand
    pagecache.content_changed(everything=True)
    assert both() == [5, 1, 3, 4]
    byline = Byline.objects.get(article=stories[3])
    byline.order = 9  # a link saved again (the story form) keeps its story's place
    byline.save()
    assert both() == [5, 1, 3, 4]
    assert Byline.objects.get(pk=byline.pk).listed_at == Article.objects.get(pk=stories[3].pk).published_at


def make_topic_named(name):
    return Topic.objects.create(name=name, slug=name.lower())


@pytest.mark.django_db
def test_a_storys_related_stories_on_its_topics_are_what_their_queryset_gives(
    make_article, energy, climate, embargoed_article
):
    from articles import listings, views

    story = make_article("Main Story")
    tag(story, energy, climate)
    for n in range(6):
        tag(
            make_article(f"Related {n}", published_at=timezone.now() - timedelta(hours=n + 2)),
            *[energy, climate][: n % 2 + 1],
        )
    tag(embargoed_article, energy, climate)
    now = timezone.now()
    compiled = listings.shared_topic_stories(story.pk, now)
    assert same(compiled, list(listings.shared_topic_stories.build(story.pk, now)))
    assert [s.headline for s in compiled] == ["Related 1", "Related 3", "Related 5", "Related 0"]
    assert same(views.topic_by_slug("energy"), list(Topic.objects.filter(pk=energy.pk)))
    assert views.topic_by_slug("nothing") == []


@pytest.mark.django_db
def test_a_topic_with_stories_cannot_be_deleted_only_merged(editor_client, published_article, energy, climate):
    tag(published_article, energy)
    response = editor_client.post(reverse("admin:articles_topic_delete", args=[energy.pk]), {"post": "yes"})
    assert Topic.objects.filter(pk=energy.pk).exists()
    assert "Cannot delete topic" in response.content.decode()
    editor_client.post(reverse("admin:articles_topic_delete", args=[climate.pk]), {"post": "yes"})
    assert not Topic.objects.filter(pk=climate.pk).exists()
