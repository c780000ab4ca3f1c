"""Readable differences between two states of a story, or of a front's arrangement, from django-reversion's
stored versions."""

from dataclasses import dataclass
from difflib import SequenceMatcher

from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.db import router
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from reversion.models import Revision, Version

from .models import Article, Author, Byline, Caption, FrontSlot, StoryTopic, Topic, TopicRedirect

# Fields that change on every save and tell an editor nothing.
IGNORED_FIELDS = {"updated_at", "version", "import_hash", "source_key"}


@dataclass
class FieldChange:
    label: str
    before: str
    after: str

    @property
    def html(self):
        return word_diff(self.before, self.after)


def article_fields(article):
    """The story's editable fields as label -> display text, from a model instance."""
    fields = {}
    for field in Article._meta.concrete_fields:
        if field.primary_key or field.name in IGNORED_FIELDS:
            continue
        value = getattr(article, field.attname)
        if field.name == "section":
            value = str(article.section) if value is not None else ""
        elif field.choices:
            value = dict(field.flatchoices).get(value, value)
        fields[field.verbose_name.capitalize()] = "" if value is None else str(value)
    return fields


def caption_lines(captions):
    return "\n".join(
        f"{c.order}. {c.text} [photo: {c.photo}]{' (lead)' if c.is_lead else ''}"
        for c in sorted(captions, key=lambda c: (c.order, c.pk or 0))
    )


def revision_state(version, model=Caption):
    """The story and its captions (or its other followed objects, `model`'s: its bylines) as they were in the
    revision of this Version (unsaved instances)."""
    versions = list(version.revision.version_set.all())
    article = version._object_version.object
    related = [
        obj for obj in (v._object_version.object for v in versions if v._model is model) if obj.article_id == article.pk
    ]
    return article, related


def author_names(bylines):
    """A revision's authors, in order, by name (an author deleted since by number)."""
    names = dict(Author.objects.filter(pk__in=[b.author_id for b in bylines]).values_list("pk", "name"))
    ordered = sorted(bylines, key=lambda b: (b.order, b.pk or 0))
    return ", ".join(names.get(b.author_id, f"author {b.author_id}") for b in ordered)


def topic_names(links):
    """A revision's topics, by name, in alphabetical order (one merged since by the topic it went into, one
    deleted since by number)."""
    ids = [link.topic_id for link in links]
    names = dict(Topic.objects.filter(pk__in=ids).values_list("pk", "name"))
    merged = TopicRedirect.objects.filter(old_id__in=set(ids) - set(names)).values_list("old_id", "topic__name")
    names |= {old: f"{name} (merged since)" for old, name in merged}
    return ", ".join(sorted(names.get(link.topic_id, f"topic {link.topic_id}") for link in links))


def revision_fields(version):
    """The story as it was in this Version's revision, with its authors, topics and captions: {label: text}."""
    article, captions = revision_state(version)
    topics = revision_state(version, StoryTopic)[1]
    return state_fields(article, captions, revision_state(version, Byline)[1], topics)


def state_fields(article, captions, bylines=(), topics=()):
    fields = article_fields(article)
    fields["Authors"] = author_names(bylines)
    fields["Topics"] = topic_names(topics)
    fields["Captions"] = caption_lines(captions)
    return fields


def changes(before, after):
    """FieldChanges between two {label: text} dicts, in the order of `after`."""
    return [
        FieldChange(label, before.get(label, ""), text)
        for label, text in after.items()
        if before.get(label, "") != text
    ]


def version_at(article, version_number):
    """The stored Version of the story at a given `version` number, if reversion recorded it."""
    for version in Version.objects.get_for_object(article).select_related("revision__user"):
        if version.field_dict.get("version") == version_number:
            return version
    return None


def last_editor(article):
    """Who saved the story as it is now, for telling another editor whose changes met theirs."""
    latest = Version.objects.get_for_object(article).select_related("revision__user").first()
    if latest and latest.field_dict.get("version") == article.version and latest.revision.user:
        return latest.revision.user.get_username()
    return "someone else"


def word_diff(before, after):
    """HTML marking removed words with <del> and added ones with <ins>."""
    old, new = before.split(" "), after.split(" ")
    parts = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(format_html("{}", " ".join(old[i1:i2])))
            continue
        if i2 > i1:
            parts.append(format_html("<del>{}</del>", " ".join(old[i1:i2])))
        if j2 > j1:
            parts.append(format_html("<ins>{}</ins>", " ".join(new[j1:j2])))
    return format_html_join(" ", "{}", ((p,) for p in parts))


# What a deleted story is recovered with: everything that is deleted with it (on_delete=CASCADE) and that
# readers or editors would miss. Preview links are left out on purpose: a deletion ends them.
RECOVERED_WITH_STORY = ["captions", "bylines", "story_topics", "corrections", "redirects"]


def record_before_delete(articles, user):
    """Store a revision of stories about to be deleted, with their captions, corrections and redirects, so
    that recovering one brings back its photos, its corrections log and its old URLs (301, not 404).

    Written directly rather than with reversion.create_revision(): inside the admin's own revision
    block (bulk actions run in one), that would only be saved after the delete, and reversion drops
    versions of objects that no longer exist. Only this revision holds corrections and redirects (Article
    does not follow them), so reverting to an older version never deletes a correction added since.
    """
    for article in articles:  # one revision each: recovering a revision restores all of it
        revision = Revision.objects.create(user=user, comment="Deleted.", date_created=timezone.now())
        related = [obj for name in RECOVERED_WITH_STORY for obj in getattr(article, name).all()]
        for obj in [article, *related]:
            Version.objects.create(
                revision=revision,
                content_type=ContentType.objects.get_for_model(obj),
                object_id=str(obj.pk),
                db=router.db_for_write(type(obj)),
                format="json",
                serialized_data=serializers.serialize("json", [obj]),
                object_repr=str(obj)[:191],
            )


# Arrangements of fronts: their fields, and their slots as an editor sees them (stories, in order, and pins).


def when(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def front_fields(front):
    """The arrangement's own fields as label -> display text."""
    return {
        "Page": front.section.name if front.section_id else "Home page",
        "Title": front.title,
        "Live from": when(front.live_from),
        "Approved": "yes" if front.approved else "no (a suggestion)",
    }


def front_revision_state(version):
    """The arrangement and its slots, in order, as they were in this Version's revision (unsaved instances)."""
    front = version._object_version.object
    slots = [
        obj
        for obj in (v._object_version.object for v in version.revision.version_set.all() if v._model is FrontSlot)
        if obj.front_id == front.pk
    ]
    return front, sorted(slots, key=lambda slot: (slot.order, slot.pk or 0))


def headlines(*slot_lists):
    """Headlines of the slots' stories by id; a story deleted since, by number."""
    ids = {slot.article_id for slots in slot_lists for slot in slots}
    names = dict(Article.objects.filter(pk__in=ids).values_list("pk", "headline"))
    return {pk: names.get(pk, f"story {pk}") for pk in ids}


def position(index):
    return "the lead" if index == 0 else f"position {index + 1}"


def arrangement_lines(slots, names):
    """The arrangement as a numbered list: "1. Headline (lead), pinned until ..."."""
    return [
        f"{i + 1}. {names[slot.article_id]}{' (lead)' if i == 0 else ''}"
        + (f", pinned until {when(slot.pinned_until)}" if slot.pinned_until else "")
        for i, slot in enumerate(slots)
    ]


def slot_changes(before, after, names):
    """What changed between two arrangements' slots, in sentences: stories added, removed, moved, pins.

    A story counts as moved only if it changed places relative to the others: adding one at the top moves
    no one (their positions shift, their order does not).
    """
    old = [slot.article_id for slot in before]
    new = [slot.article_id for slot in after]
    kept = set(old) & set(new)
    old_kept, new_kept = [pk for pk in old if pk in kept], [pk for pk in new if pk in kept]
    matcher = SequenceMatcher(None, old_kept, new_kept, autojunk=False)
    stayed = {pk for block in matcher.get_matching_blocks() for pk in new_kept[block.b : block.b + block.size]}
    pins_before = {slot.article_id: slot.pinned_until for slot in before}
    lines = []
    for index, slot in enumerate(after):
        name = names[slot.article_id]
        if slot.article_id not in kept:
            pin = f", pinned until {when(slot.pinned_until)}" if slot.pinned_until else ""
            lines.append(f"Added “{name}” as {position(index)}{pin}.")
            continue
        if slot.article_id not in stayed:
            lines.append(f"Moved “{name}” from {position(old.index(slot.article_id))} to {position(index)}.")
        pin_before = pins_before[slot.article_id]
        if pin_before != slot.pinned_until:
            if slot.pinned_until is None:
                lines.append(f"Unpinned “{name}” (was pinned until {when(pin_before)}).")
            elif pin_before is None:
                lines.append(f"Pinned “{name}” until {when(slot.pinned_until)}.")
            else:
                lines.append(f"Pinned “{name}” until {when(slot.pinned_until)} (was {when(pin_before)}).")
    lines += [f"Removed “{names[pk]}” (was {position(index)})." for index, pk in enumerate(old) if pk not in set(new)]
    return lines


def front_changes(version, previous):
    """What one saved version of an arrangement changed against the one before it (None: the first):
    (FieldChanges of its fields, sentences about its slots, the arrangement as saved, as lines)."""
    front, slots = front_revision_state(version)
    before_front, before_slots = front_revision_state(previous) if previous else (None, [])
    names = headlines(slots, before_slots)
    fields = changes(front_fields(before_front) if before_front else {}, front_fields(front))
    return fields, slot_changes(before_slots, slots, names), arrangement_lines(slots, names)
