from datetime import UTC, datetime, time, timedelta

import django_filters
from django import forms
from django.utils import timezone

from .models import Section


class SearchFilter(django_filters.FilterSet):
    """Narrow a search by section, publication date and photo credit (agency or photographer)."""

    section = django_filters.ModelChoiceFilter(
        queryset=Section.objects.all(), to_field_name="slug", empty_label="All sections"
    )
    # Dates become the times their days start and end (in the site's time zone), compared with the
    # column itself: a "published_at__date" lookup converted every story's time first, which SQLite does
    # in Python (0.3 s at 100,000 stories) and neither database can answer from an index.
    since = django_filters.DateFilter(
        method="filter_since", label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(method="filter_until", label="To", widget=forms.DateInput(attrs={"type": "date"}))
    credit = django_filters.CharFilter(
        field_name="captions__photo__credit", lookup_expr="icontains", label="Photo credit", distinct=True
    )

    def filter_since(self, queryset, name, value):
        return queryset.filter(published_at__gte=start_of(value))

    def filter_until(self, queryset, name, value):
        try:
            next_day = value + timedelta(days=1)
        except OverflowError:  # until 9999-12-31: the last day a date can be ends after every story
            return queryset
        return queryset.filter(published_at__lt=start_of(next_day))


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
