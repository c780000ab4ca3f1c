from datetime import UTC, datetime, time, timedelta

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django_filters.constants import EMPTY_VALUES

from .models import ArticleQuerySet, Author, Section, Topic


class DayFilter(django_filters.DateFilter):
    """A day of the site's time zone, for a datetime column: `gte` is from the moment it starts, `lte` up to
    the moment the next day starts. Compared with the column itself: a `published_at__date` lookup
    converted every story's time first, which SQLite does in Python (0.3 s at 100,000 stories) and neither
    database can answer from an index."""

    def __init__(self, *args, lookup_expr, **kwargs):
        if lookup_expr not in ("gte", "lte"):
            raise ValueError(f"A DayFilter is from a day (gte) or up to one (lte), not {lookup_expr!r}.")
        super().__init__(*args, lookup_expr=lookup_expr, widget=forms.DateInput(attrs={"type": "date"}), **kwargs)

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        if self.lookup_expr == "gte":
            return qs.filter(**{f"{self.field_name}__gte": start_of(value)})
        try:
            next_day = value + timedelta(days=1)
        except OverflowError:  # until 9999-12-31: the last day a date can be ends after every story
            return qs
        return qs.filter(**{f"{self.field_name}__lt": start_of(next_day)})


class SlugOrName(django_filters.fields.ModelChoiceField):
    """A topic or an author by the slug of their page, as links give it, or by their name, as readers type it
    (any case): one query."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        self.validate_no_null_characters(value)
        typed = str(value).strip()
        found = self.queryset.filter(Q(slug=typed.lower()) | Q(name__iexact=typed)).order_by("pk").first()
        if found is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        return found


class BySlug(django_filters.ModelChoiceFilter):
    """A topic or an author named by the slug of their page (?topic=energy), followed from a link, or typed (a
    name will do): a text box, not a list of every one of them. An unknown one is the form's error, "No such
    topic"."""

    field_class = SlugOrName

    def __init__(self, model, narrow, **kwargs):
        self.narrow = narrow
        name = model._meta.verbose_name
        super().__init__(
            queryset=model.objects.all(),
            to_field_name="slug",
            widget=forms.TextInput(attrs={"placeholder": f"e.g. {kwargs.pop('example')}"}),
            error_messages={"invalid_choice": f"No such {name}: “%(value)s”."},
            **kwargs,
        )

    def filter(self, qs, value):
        return qs if value in EMPTY_VALUES else self.narrow(qs, value)


class SearchFilter(django_filters.FilterSet):
    """Narrow a search by section, topic, author, publication date and photo credit (agency or photographer)."""

    section = django_filters.ModelChoiceFilter(
        queryset=Section.objects.all(), to_field_name="slug", empty_label="All sections"
    )
    topic = BySlug(Topic, ArticleQuerySet.on_topic, label="Topic", example="energy")
    author = BySlug(Author, ArticleQuerySet.by_author, label="Author", example="jane-doe")
    since = DayFilter(field_name="published_at", lookup_expr="gte", label="From")
    until = DayFilter(field_name="published_at", lookup_expr="lte", label="To")
    credit = django_filters.CharFilter(
        field_name="captions__photo__credit", lookup_expr="icontains", label="Photo credit", distinct=True
    )

    def filter_queryset(self, queryset):
        # A topic or author that does not exist finds nothing, rather than every story (the filter left out). Not
        # with none(): the search engines write the queryset into their own SQL, and none() has no SQL.
        if any(name in self.form.errors for name in ("topic", "author")):
            return queryset.filter(pk__isnull=True)
        return super().filter_queryset(queryset)


# The moments the database adapters can still convert to UTC; the first and last days a date can name
# start outside them in time zones east and west of UTC.
EARLIEST, LATEST = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)


def start_of(day):
    """When `day` starts in the site's time zone, or the earliest or latest moment a datetime can hold when
    that start is beyond it (year 1 or 9999 in a time zone away from UTC)."""
    moment = timezone.make_aware(datetime.combine(day, time.min))
    try:
        moment.astimezone(UTC)
    except OverflowError:
        return EARLIEST if day.year == 1 else LATEST
    return moment
