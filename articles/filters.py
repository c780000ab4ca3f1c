import django_filters
from django import forms

from .models import Section


class SearchFilter(django_filters.FilterSet):
    """Narrow a search by section, publication date and photo credit (agency or photographer)."""

    section = django_filters.ModelChoiceFilter(
        queryset=Section.objects.all(), to_field_name="slug", empty_label="All sections"
    )
    since = django_filters.DateFilter(
        field_name="published_at",
        lookup_expr="date__gte",
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = django_filters.DateFilter(
        field_name="published_at",
        lookup_expr="date__lte",
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    credit = django_filters.CharFilter(
        field_name="captions__photo__credit", lookup_expr="icontains", label="Photo credit", distinct=True
    )
