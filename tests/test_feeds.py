from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from articles.models import Article

NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def xml(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return ElementTree.fromstring(response.content)


@pytest.mark.django_db
def test_site_rss_feed_lists_published_stories(client, published_article):
    channel = xml(client, "/feed/").find("channel")
    item = channel.find("item")
    assert item.findtext("title") == "Floods Hit the Coast"
    assert item.findtext("link") == f"http://testserver{published_article.get_absolute_url()}"
    assert item.findtext("category") == "World"


@pytest.mark.django_db
def test_site_atom_feed_lists_published_stories(client, published_article):
    feed = xml(client, "/feed/atom/")
    titles = [
        entry.findtext("{http://www.w3.org/2005/Atom}title")
        for entry in feed.iter("{http://www.w3.org/2005/Atom}entry")
    ]
    assert titles == ["Floods Hit the Coast"]


@pytest.mark.django_db
def test_section_feeds_hold_only_their_section(client, published_article, make_article):
    from articles.models import Section

    make_article("Tokyo Story", section=Section.objects.get(slug="asia"))
    rss = xml(client, "/asia/feed/")
    assert [item.findtext("title") for item in rss.iter("item")] == ["Tokyo Story"]
    atom = client.get("/asia/feed/atom/").content.decode()
    assert "Tokyo Story" in atom and "Floods Hit the Coast" not in atom
    assert client.get("/no-such-section/feed/").status_code == 404


@pytest.mark.django_db
def test_pages_link_to_their_feeds(client, published_article):
    home = client.get("/").content.decode()
    assert '<link rel="alternate" type="application/rss+xml"' in home and 'href="/feed/"' in home
    section = client.get("/world/").content.decode()
    assert 'href="/world/feed/"' in section and 'href="/world/feed/atom/"' in section


@pytest.mark.django_db
def test_sitemap_lists_sections_and_stories(client, published_article):
    index = xml(client, "/sitemap.xml")
    sitemaps = [loc.text for loc in index.iter(f"{SITEMAP}loc")]
    assert "http://testserver/sitemap-articles.xml" in sitemaps
    locations = [loc.text for loc in xml(client, "/sitemap-articles.xml").iter(f"{SITEMAP}loc")]
    assert locations == [f"http://testserver{published_article.get_absolute_url()}"]
    sections = [loc.text for loc in xml(client, "/sitemap-sections.xml").iter(f"{SITEMAP}loc")]
    assert "http://testserver/world/" in sections


@pytest.mark.django_db
def test_news_sitemap_covers_the_last_48_hours(client, published_article, make_article):
    old = make_article("Old News", published_at=timezone.now() - timedelta(hours=49))
    root = xml(client, "/news-sitemap.xml")
    titles = [title.text for title in root.iter(f"{NEWS}title")]
    assert titles == ["Floods Hit the Coast"]
    assert old.headline not in titles
    assert root.find(f"{SITEMAP}url/{NEWS}news/{NEWS}publication/{NEWS}language").text == "en"


@pytest.mark.django_db
def test_feeds_stay_short_whatever_the_archive(client, many_articles):
    many_articles(40)
    assert len(list(xml(client, "/feed/").iter("item"))) == 30
    assert Article.objects.count() == 40
