"""A kept card (articles.jinja2.story_card) is only as fresh as its key: the card template may show nothing
that card_key() does not cover, or an edit would leave readers the old card."""

import functools
import inspect
from types import FunctionType

import pytest
from django.db.models import Model
from django.template import engines
from django.utils.functional import cached_property

from articles.jinja2 import CARD_TEMPLATE, card_key
from articles.models import Article

# Every card the site renders: with and without its photo, summary and section.
OPTIONS = {"with_photo": True, "with_summary": True, "show_section": True, "eager": True, "level": 2}


class Noted:
    """A model instance that notes each attribute read of it, as (model name, attribute): its own fields, the
    fields its properties and methods read, and those of the model instances it leads to."""

    def __init__(self, instance, log):
        object.__setattr__(self, "_instance", instance)
        object.__setattr__(self, "_log", log)

    def __getattr__(self, name):
        instance = self._instance
        if name.startswith("_"):
            return getattr(instance, name)
        self._log.add((type(instance).__name__, name))
        attribute = inspect.getattr_static(type(instance), name, None)
        if isinstance(attribute, property):
            value = attribute.fget(self)
        elif isinstance(attribute, cached_property):
            value = attribute.func(self)
        elif inspect.isfunction(attribute):
            return functools.partial(attribute, self)
        else:
            value = getattr(instance, name)
        return Noted(value, self._log) if isinstance(value, Model) else value


def reads(article, render):
    log = set()
    render(Noted(article, log))
    return log


def uncovered(article, template):
    """What the template reads that card_key() does not: the story's own fields are covered by its version
    (every save bumps it), and its properties and methods by what they read; a related object's (section,
    lead caption, photo) must be in the key."""
    key = reads(article, lambda noted: card_key(noted, OPTIONS))
    shown = reads(article, lambda noted: template.render({"article": noted, **OPTIONS}))
    return {(model, name) for model, name in shown - key if not (model == "Article" and covered_by_version(name))}


def covered_by_version(name):
    if name in {field.attname for field in Article._meta.concrete_fields}:
        return True
    return isinstance(inspect.getattr_static(Article, name, None), property | cached_property | FunctionType)


@pytest.fixture
def card_article(article_with_photo):
    article = Article.objects.select_related("section").get(pk=article_with_photo.pk)
    article.standfirst = "What happened overnight."
    return article


@pytest.mark.django_db
def test_the_card_key_covers_everything_the_card_shows(card_article):
    template = engines["jinja2"].get_template(CARD_TEMPLATE)
    assert ("Photo", "image") in reads(card_article, lambda noted: template.render({"article": noted, **OPTIONS}))
    assert uncovered(card_article, template) == set()


@pytest.mark.django_db
def test_a_card_showing_what_its_key_leaves_out_is_caught(card_article):
    jinja2 = engines["jinja2"].env
    card = jinja2.loader.get_source(jinja2, CARD_TEMPLATE)[0]
    template = jinja2.from_string(card + "{{ article.section.description }}{{ article.lead_caption.text }}")
    assert uncovered(card_article, template) == {("Section", "description"), ("Caption", "text")}


@pytest.mark.django_db
def test_a_listing_keys_a_card_as_the_story_objects_do_and_a_new_crop_changes_it(article_with_photo):
    """Listings read the lead photo as JSON with the story (with_lead_photo()): their key must be the one the
    objects give, and must change with the photo, or a listing would show the old crop."""
    stories = Article.objects.select_related("section")
    listed = stories.with_lead_photo().get(pk=article_with_photo.pk)
    assert card_key(listed, OPTIONS) == card_key(stories.get(pk=article_with_photo.pk), OPTIONS)
    assert "lead_caption" not in listed.__dict__  # the key was made without making the objects
    photo = listed.lead_caption.photo
    photo.focal_x = 0.2 if photo.focal_x != 0.2 else 0.8
    photo.save()
    assert card_key(stories.with_lead_photo().get(pk=listed.pk), OPTIONS) != card_key(listed, OPTIONS)
