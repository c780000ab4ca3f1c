import json
import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.http import http_date

from articles.listings import LEAD_AND_TOP
from articles.models import Article, Caption, Correction, Photo, Redirect, Section


def text_of(response):
    return response.content.decode()


@pytest.mark.django_db
def test_home_groups_latest_stories_by_section(client, published_article, make_article):
    """Below the front's top stories (tests/test_fronts.py), each section's newest of the rest."""
    europe = Section.objects.get(slug="europe")
    make_article("Summit in Brussels Ends", section=europe)
    for n in range(LEAD_AND_TOP):
        make_article(f"Newer story {n}", published_at=timezone.now() - timedelta(minutes=10 + n))
    page = text_of(client.get("/"))
    assert page.index('class="front"') < page.index("Newer story 4") < page.index('id="section-world"')
    assert "Floods Hit the Coast" in page and "Summit in Brussels Ends" in page
    assert page.index('id="section-world"') < page.index("Floods Hit the Coast") < page.index('id="section-europe"')
    assert page.index('id="section-europe"') < page.index("Summit in Brussels Ends")


@pytest.mark.django_db
def test_article_page_shows_every_paragraph_once(client, make_article):
    article = make_article(
        "Port Reopens", standfirst="Ships are back.", body="Alpha para.\n\nBeta para.\n\nGamma para."
    )
    page = text_of(client.get(article.get_absolute_url()))
    body = page[page.index("<main") :]
    for text in ["Port Reopens", "Ships are back.", "Alpha para.", "Beta para.", "Gamma para."]:
        assert body.count(text) == 1, text


@pytest.mark.django_db
def test_story_shows_its_other_photos_in_their_order_after_the_lead(client, published_article):
    for order in [3, 1, 2]:
        photo = Photo.objects.create(credit=f"Agency {order}", alt_text="A street")
        Caption.objects.create(article=published_article, photo=photo, text=f"Photo {order}", order=order)
    page = client.get(published_article.get_absolute_url()).content.decode()
    shown = [page.index(text) for text in ["A flooded street in the port.", "Photo 1", "Photo 2", "Photo 3"]]
    assert shown == sorted(shown) and "Agency 2" in page


@pytest.mark.django_db
def test_article_shows_updated_time_only_after_an_edit(client, published_article):
    Article.objects.filter(pk=published_article.pk).update(published_at=timezone.now())
    assert "Updated" not in text_of(client.get(published_article.get_absolute_url()))
    Article.objects.filter(pk=published_article.pk).update(published_at=timezone.now() - timedelta(hours=2))
    published_article.refresh_from_db()
    published_article.standfirst = "Now with a summary."
    published_article.save()
    assert "Updated <time" in text_of(client.get(published_article.get_absolute_url()))


@pytest.mark.django_db
def test_corrections_show_under_the_story_newest_first(client, published_article):
    now = timezone.now()
    Correction.objects.create(article=published_article, text="Older note.", created_at=now - timedelta(hours=2))
    Correction.objects.create(
        article=published_article,
        kind=Correction.Kind.UPDATE,
        text="Newer note.",
        created_at=now - timedelta(minutes=1),
    )
    page = text_of(client.get(published_article.get_absolute_url()))
    assert page.index("Second paragraph.") < page.index("Newer note.") < page.index("Older note.")
    assert "Updated <time" in page


@pytest.mark.django_db
def test_arabic_story_renders_right_to_left(client, arabic_article, published_article):
    page = text_of(client.get(arabic_article.get_absolute_url()))
    assert re.search(r'<article class="story" lang="ar" dir="rtl">', page)
    assert '<html lang="en" dir="ltr">' in page
    home = text_of(client.get("/"))
    assert 'lang="ar" dir="rtl"' in home and 'lang="en" dir="ltr"' in home


@pytest.mark.django_db
def test_related_stories_come_from_the_same_section(client, published_article, make_article):
    make_article("Storm Season Starts")
    make_article("Far Away Story", section=Section.objects.get(slug="asia"))
    page = text_of(client.get(published_article.get_absolute_url()))
    related = page[page.index('class="related"') :]
    assert "Storm Season Starts" in related and "Far Away Story" not in related


@pytest.mark.django_db
def test_article_carries_canonical_opengraph_twitter_and_json_ld(client, published_article):
    page = text_of(client.get(published_article.get_absolute_url()))
    url = f"http://testserver{published_article.get_absolute_url()}"
    assert f'<link rel="canonical" href="{url}">' in page
    assert '<meta property="og:title" content="Floods Hit the Coast">' in page
    assert '<meta name="twitter:card"' in page
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == "Floods Hit the Coast"
    assert data["articleSection"] == "World"
    assert {"datePublished", "dateModified", "author", "publisher"} <= data.keys()


@pytest.mark.django_db
def test_changing_slug_redirects_old_url_permanently(client, published_article):
    old_url = published_article.get_absolute_url()
    published_article.slug = "floods-hit-the-east-coast"
    published_article.save()
    response = client.get(old_url)
    assert response.status_code == 301
    assert response["Location"] == published_article.get_absolute_url()
    assert client.get(published_article.get_absolute_url()).status_code == 200


@pytest.mark.django_db
def test_changing_section_and_date_redirects_every_old_url(client, published_article):
    first_url = published_article.get_absolute_url()
    published_article.section = Section.objects.get(slug="europe")
    published_article.save()
    second_url = published_article.get_absolute_url()
    published_article.published_at -= timedelta(days=3)
    published_article.save()
    assert Redirect.objects.count() == 2
    for url in [first_url, second_url]:
        response = client.get(url)
        assert response.status_code == 301 and response["Location"] == published_article.get_absolute_url()


@pytest.mark.django_db
def test_moving_back_to_an_old_url_serves_it_again(client, published_article):
    old_url = published_article.get_absolute_url()
    published_article.slug = "temporary-slug"
    published_article.save()
    published_article.slug = "floods-hit-the-coast"
    published_article.save()
    assert client.get(old_url).status_code == 200
    assert client.get(old_url.replace("floods-hit-the-coast", "temporary-slug")).status_code == 301


@pytest.mark.django_db
def test_wrong_section_in_url_redirects_to_canonical(client, published_article):
    wrong = published_article.get_absolute_url().replace("/world/", "/asia/")
    response = client.get(wrong)
    assert response.status_code == 301 and response["Location"] == published_article.get_absolute_url()


@pytest.mark.django_db
def test_withdrawn_story_is_gone_with_its_reason(client, withdrawn_article):
    response = client.get(withdrawn_article.get_absolute_url())
    assert response.status_code == 410
    page = text_of(response)
    assert "its main source retracted" in page
    assert "Withdrawn Claims About Mayor" not in page and "First paragraph." not in page


@pytest.mark.django_db
def test_old_url_of_withdrawn_story_is_gone_too(client, published_article):
    old_url = published_article.get_absolute_url()
    published_article.slug = "new-slug"
    published_article.save()
    published_article.status = Article.Status.WITHDRAWN
    published_article.save()
    assert client.get(old_url).status_code == 410


@pytest.mark.django_db
def test_not_found_page_uses_the_site_design(client):
    response = client.get("/no-such-section/")
    assert response.status_code == 404
    page = text_of(response)
    assert "Page not found" in page and 'class="masthead"' in page


@pytest.mark.django_db
def test_server_error_page_uses_the_site_design(client, settings):
    settings.ROOT_URLCONF = "tests.failing_urls"
    client.raise_request_exception = False
    response = client.get("/crash/")
    assert response.status_code == 500
    page = text_of(response)
    assert "Something went wrong" in page and 'class="masthead"' in page and "a bug" not in page


@pytest.mark.django_db
def test_section_pages_are_paginated_newest_first(client, many_articles):
    many_articles(45)
    first = text_of(client.get("/world/"))
    assert first.index("Story number 0<") < first.index("Story number 1<")
    assert "Page 1 of 3" in first
    last = text_of(client.get("/world/?page=3"))
    assert "Story number 44<" in last and "Story number 0<" not in last
    assert client.get("/world/?page=4").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/world/", "/search/?q=floods", "/feed/", "/world/feed/atom/", "/sitemap.xml"])
def test_anonymous_pages_answer_conditional_requests_with_304(client, published_article, url):
    response = client.get(url)
    assert response.status_code == 200 and response.has_header("ETag")
    assert client.get(url, headers={"if-none-match": response["ETag"]}).status_code == 304


@pytest.mark.django_db
def test_pages_must_be_revalidated_before_reuse(client, published_article):
    for url in ["/", "/world/", published_article.get_absolute_url(), "/search/?q=floods"]:
        assert "no-cache" in client.get(url)["Cache-Control"]


def age_everything(hours=1):
    Article.objects.update(updated_at=timezone.now() - timedelta(hours=hours))


@pytest.mark.django_db
def test_withdrawing_a_story_changes_last_modified(client, published_article):
    age_everything()
    since = client.get("/")["Last-Modified"]
    assert client.get("/", headers={"if-modified-since": since}).status_code == 304
    published_article.status = Article.Status.WITHDRAWN
    published_article.save()
    home = client.get("/", headers={"if-modified-since": since})
    assert home.status_code == 200 and "Floods Hit the Coast" not in text_of(home)


@pytest.mark.django_db
def test_lifting_an_embargo_changes_last_modified(client, published_article, make_article):
    release = timezone.now() + timedelta(seconds=1)
    make_article("Embargoed Results Announced", published_at=release)
    age_everything()
    since = http_date((timezone.now() - timedelta(minutes=10)).timestamp())
    assert client.get("/", headers={"if-modified-since": since}).status_code == 304
    # Time passes: the embargo ends without anyone saving the story.
    time.sleep(max((release - timezone.now()).total_seconds(), 0) + 0.05)
    home = client.get("/", headers={"if-modified-since": since})
    assert home.status_code == 200 and "Embargoed Results Announced" in text_of(home)


@pytest.mark.django_db
def test_robots_txt_names_the_sitemaps(client):
    text = text_of(client.get("/robots.txt"))
    assert "Sitemap: http://testserver/sitemap.xml" in text
    assert "Sitemap: http://testserver/news-sitemap.xml" in text


def test_static_files_get_hashed_compressed_names(settings, tmp_path):
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    hashed = [path.name for path in (tmp_path / "css").iterdir()]
    assert any(re.fullmatch(r"site\.[0-9a-f]{12}\.css", name) for name in hashed)
    assert any(re.fullmatch(r"site\.[0-9a-f]{12}\.css\.gz", name) for name in hashed)


@pytest.mark.django_db
def test_story_cards_follow_a_renamed_section(client, section, published_article):
    client.get("/")  # the cards are rendered and kept
    section.slug = "planet"
    section.save()

    home = client.get("/").content.decode()

    assert f'href="/planet/{published_article.published_at:%Y}/' in home
    assert 'href="/world/' not in home


@pytest.mark.django_db
def test_story_cards_follow_a_new_lead_photo_description(client, published_article, make_photo):
    photo = make_photo(alt_text="Boats in a flooded harbour")
    published_article.captions.update(photo=photo)
    client.get(section_url := published_article.section.get_absolute_url())
    photo.alt_text = "Rescuers wading through the harbour"
    photo.save()

    page = client.get(section_url).content.decode()

    assert 'alt="Rescuers wading through the harbour"' in page
    assert "Boats in a flooded harbour" not in page


@pytest.mark.django_db
def test_story_cards_follow_an_edited_headline(client, published_article):
    client.get("/")
    published_article.headline = "Floods Recede on the Coast"
    published_article.save()

    home = client.get("/").content.decode()

    assert "Floods Recede on the Coast" in home
    assert "Floods Hit the Coast" not in home
