import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from articles.models import Article, Caption, Photo
from articles.workflow import publication_problems


@pytest.fixture
def draft_with_photo(make_article, make_photo):
    article = make_article("Storm Reaches the Coast", status=Article.Status.DRAFT)
    photo = make_photo(alt_text="")
    Caption.objects.create(article=article, photo=photo, text="Waves over the sea wall.", is_lead=True)
    return article


def about_to_publish(article):
    article.status = Article.Status.PUBLISHED
    article.published_at = timezone.now()
    return article


@pytest.mark.django_db
def test_story_with_a_photo_lacking_alt_text_cannot_be_published(draft_with_photo):
    assert publication_problems(draft_with_photo) == []  # drafts may wait for their alt text

    [problem] = publication_problems(about_to_publish(draft_with_photo))
    assert "needs alt text" in problem


@pytest.mark.django_db
def test_caption_is_not_alt_text(draft_with_photo):
    caption = draft_with_photo.captions.get()
    assert caption.text

    assert publication_problems(about_to_publish(draft_with_photo))


@pytest.mark.django_db
def test_story_can_be_published_once_its_photos_have_alt_text(draft_with_photo):
    Photo.objects.update(alt_text="Waves breaking over a sea wall")

    assert publication_problems(about_to_publish(draft_with_photo)) == []


@pytest.mark.django_db
def test_photo_waiting_for_its_image_does_not_block_publishing(make_article):
    article = make_article("Wire Story", status=Article.Status.DRAFT)
    Caption.objects.create(article=article, photo=Photo.objects.create(credit="AFP"), text="Caption from the wire.")

    assert publication_problems(about_to_publish(article)) == []


@pytest.mark.django_db
def test_image_without_alt_text_cannot_join_a_published_story(make_article, make_photo):
    article = make_article("Published Wire Story")
    photo = Photo.objects.create(credit="AFP")
    Caption.objects.create(article=article, photo=photo, text="Caption from the wire.")
    photo.full_clean()

    photo.image = make_photo().image
    with pytest.raises(ValidationError, match="needs alt text"):
        photo.full_clean()


@pytest.mark.django_db
def test_photo_without_image_renders_caption_and_credit_without_a_broken_image(client, make_article):
    article = make_article("Wire Story Waiting for Its Picture")
    photo = Photo.objects.create(credit="AFP")
    Caption.objects.create(article=article, photo=photo, text="Rescuers at the scene.", is_lead=True)

    html = client.get(article.get_absolute_url()).text

    figure = re.search(r"<figure[^>]*>.*?</figure>", html, re.S).group()
    assert "Rescuers at the scene." in figure and '<span class="credit">AFP</span>' in figure
    assert "<img" not in figure and "<picture" not in figure
    assert "og:image" not in html
    assert "<img" not in client.get("/").text


@pytest.mark.django_db
def test_admin_lists_photos_missing_their_image(admin_client, make_photo):
    make_photo(credit="Reuters")
    Photo.objects.create(credit="Wire without picture")

    missing = admin_client.get("/admin/articles/photo/?image=missing").text
    present = admin_client.get("/admin/articles/photo/?image=present").text

    assert "Wire without picture" in missing and "Reuters" not in missing
    assert "Reuters" in present and "Wire without picture" not in present


@pytest.mark.django_db
def test_admin_photo_page_shows_the_focal_point(admin_client, make_photo):
    photo = make_photo(focal_x=0.25, focal_y=0.75)

    html = admin_client.get(f"/admin/articles/photo/{photo.pk}/change/").text

    assert 'class="focal-point" data-x="0.25" data-y="0.75"' in html
    assert "articles/focal-point.js" in html
    assert 'name="focal_x"' in html and 'name="focal_y"' in html
