"""What every save and delete through the ORM sets off, connected in ArticlesConfig.ready().

A story's state before a change is read once, in pre_save and pre_delete, from the database (a reverted
revision's instance says nothing of what it replaces): the page cache is told what went stale
(pagecache.content_changed), and a published story whose URL changed leaves a redirect behind.
Code that writes without signals (the importer's bulk writes) calls pagecache.stories_changed itself.
Every change to a story, or to what its ninjs shows (captions, photos, bylines, authors, topics, corrections), is
also announced to webhook subscribers once it commits (webhooks.stories_touched), which decides what fires.
"""

from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from .models import (
    PUBLIC,
    Article,
    Author,
    AuthorLink,
    Byline,
    Caption,
    Correction,
    Front,
    FrontSlot,
    Photo,
    Redirect,
    Section,
    StoryTopic,
    Topic,
    publication_state,
    story_path,
)
from .pagecache import FrontState, StoryState, content_changed, front_states, story_states
from .webhooks import stories_touched, story_leaving


def remember_story(sender, instance, **kwargs):
    instance._states_before = story_states(Article.objects.filter(pk=instance.pk)) if instance.pk else []


def story_saved(sender, instance, raw, **kwargs):
    before = getattr(instance, "_states_before", [])
    content_changed([*before, StoryState(*(getattr(instance, name) for name in StoryState._fields))])
    stories_touched([instance.pk])
    if before and not raw:
        redirect_old_url(instance, before[0])


def redirect_old_url(article, before):
    """Old URLs keep working: when a published story's slug, section or date changes, its old URL redirects."""
    if publication_state(before.status, before.published_at) != PUBLIC:
        return
    section = article.section if before.section_id == article.section_id else Section.objects.get(pk=before.section_id)
    old_url = story_path(section.slug, before.published_at, before.slug)
    new_url = article.get_absolute_url()
    if new_url == old_url:
        return
    Redirect.objects.update_or_create(old_path=old_url, defaults={"article": article})
    # The story may be moving back to a URL it had before; that URL is its own again.
    Redirect.objects.filter(old_path=new_url).delete()


def story_leaving_for_good(sender, instance, **kwargs):
    story_leaving(instance)


def story_deleted(sender, instance, **kwargs):
    content_changed(getattr(instance, "_states_before", []))
    stories_touched([instance.pk])


def caption_or_correction_changed(sender, instance, **kwargs):
    content_changed(story_states(Article.objects.filter(pk=instance.article_id)))
    stories_touched([instance.article_id])


def photo_changed(sender, instance, **kwargs):
    authors = Author.objects.filter(photo=instance.pk).values_list("slug", flat=True)
    stories = story_states(Article.objects.filter(captions__photo=instance.pk))
    content_changed(stories, authors=list(authors))
    stories_touched(story.pk for story in stories)


def remember_author(sender, instance, **kwargs):
    slugs = Author.objects.filter(pk=instance.pk).values_list("slug", flat=True) if instance.pk else []
    instance._slug_before = next(iter(slugs), None)


def author_changed(sender, instance, **kwargs):
    """Their page (under the slug before and after), and their stories' pages, which show their name."""
    slugs = {instance.slug, getattr(instance, "_slug_before", None)} - {None}
    stories = story_states(Article.objects.by_author(instance.pk))
    content_changed(stories, authors=slugs)
    stories_touched(story.pk for story in stories)


def author_link_changed(sender, instance, **kwargs):
    content_changed(authors=Author.objects.filter(pk=instance.author_id).values_list("slug", flat=True))


def remember_front(sender, instance, **kwargs):
    instance._states_before = front_states(Front.objects.filter(pk=instance.pk)) if instance.pk else []


def front_changed(sender, instance, **kwargs):
    """An arrangement saved or deleted: the fronts it was or is live on (or scheduled for)."""
    after = (
        [] if kwargs.get("signal") is post_delete else [FrontState(instance.pk, instance.section_id, instance.approved)]
    )
    content_changed(fronts=[*getattr(instance, "_states_before", []), *after])


def front_slot_changed(sender, instance, **kwargs):
    """A slot added, moved, pinned or taken out: its arrangement's front (none left when the arrangement is
    being deleted with it, which says so itself)."""
    content_changed(fronts=front_states(Front.objects.filter(pk=instance.front_id)))


def remember_topic(sender, instance, **kwargs):
    slugs = Topic.objects.filter(pk=instance.pk).values_list("slug", flat=True) if instance.pk else []
    instance._slug_before = next(iter(slugs), None)


def topic_changed(sender, instance, **kwargs):
    """Its page (under the slug before and after), and its stories' pages, which list their topics."""
    slugs = {instance.slug, getattr(instance, "_slug_before", None)} - {None}
    stories = story_states(Article.objects.on_topic(instance.pk))
    content_changed(stories, topics=slugs)
    stories_touched(story.pk for story in stories)


def restore_topic_link(sender, instance, raw, **kwargs):
    if raw:  # written from a revision, not a form: its topic may have been merged since
        instance.follow_merges()


def section_changed(sender, instance, **kwargs):
    content_changed(everything=True)


def connect():
    pre_save.connect(remember_story, sender=Article, dispatch_uid="articles-story-before-save")
    pre_delete.connect(remember_story, sender=Article, dispatch_uid="articles-story-before-delete")
    pre_delete.connect(story_leaving_for_good, sender=Article, dispatch_uid="articles-story-leaving")
    post_save.connect(story_saved, sender=Article, dispatch_uid="articles-story-saved")
    post_delete.connect(story_deleted, sender=Article, dispatch_uid="articles-story-deleted")
    for model in (Caption, Correction, Byline, StoryTopic):
        post_save.connect(caption_or_correction_changed, sender=model, dispatch_uid=f"articles-{model.__name__}-s")
        post_delete.connect(caption_or_correction_changed, sender=model, dispatch_uid=f"articles-{model.__name__}-d")
    post_save.connect(photo_changed, sender=Photo, dispatch_uid="articles-photo-saved")
    pre_delete.connect(photo_changed, sender=Photo, dispatch_uid="articles-photo-deleted")
    pre_save.connect(remember_author, sender=Author, dispatch_uid="articles-author-before-save")
    post_save.connect(author_changed, sender=Author, dispatch_uid="articles-author-saved")
    # Before: the author's bylines protect them, but a deleted author takes their page with them.
    pre_delete.connect(author_changed, sender=Author, dispatch_uid="articles-author-deleted")
    post_save.connect(author_link_changed, sender=AuthorLink, dispatch_uid="articles-authorlink-saved")
    post_delete.connect(author_link_changed, sender=AuthorLink, dispatch_uid="articles-authorlink-deleted")
    pre_save.connect(remember_front, sender=Front, dispatch_uid="articles-front-before-save")
    pre_delete.connect(remember_front, sender=Front, dispatch_uid="articles-front-before-delete")
    post_save.connect(front_changed, sender=Front, dispatch_uid="articles-front-saved")
    post_delete.connect(front_changed, sender=Front, dispatch_uid="articles-front-deleted")
    post_save.connect(front_slot_changed, sender=FrontSlot, dispatch_uid="articles-frontslot-saved")
    post_delete.connect(front_slot_changed, sender=FrontSlot, dispatch_uid="articles-frontslot-deleted")
    pre_save.connect(restore_topic_link, sender=StoryTopic, dispatch_uid="articles-storytopic-before-save")
    pre_save.connect(remember_topic, sender=Topic, dispatch_uid="articles-topic-before-save")
    post_save.connect(topic_changed, sender=Topic, dispatch_uid="articles-topic-saved")
    # Before: a deleted topic (one without stories: they protect it) takes its page with it.
    pre_delete.connect(topic_changed, sender=Topic, dispatch_uid="articles-topic-deleted")
    post_save.connect(section_changed, sender=Section, dispatch_uid="articles-section-saved")
    post_delete.connect(section_changed, sender=Section, dispatch_uid="articles-section-deleted")
