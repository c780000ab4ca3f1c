"""Text fields whose rule holds whatever path the value comes in by: text stored clean (one kind of line break,
no control characters: articles.text.clean_text). Photo fields are in articles/photos/fields.py."""

from django import forms
from django.db import models

from .text import clean_text


class ProseFormField(forms.CharField):
    """Multi-line text as editors type it, cleaned as stored (browsers send line breaks as "\r\n")."""

    widget = forms.Textarea
    one_line = False

    def to_python(self, value):
        # Cleaned before CharField strips it: a removed control character must not leave white space behind.
        if isinstance(value, str):
            value = clean_text(value, one_line=self.one_line)
        return super().to_python(value)


class LineFormField(ProseFormField):
    """One-line text (headline, byline, credit, alt text, names): several lines pasted into it become one."""

    widget = forms.TextInput
    one_line = True


class ProseField(models.TextField):
    """A TextField for what editors write in several lines (body, standfirst, captions, notes).

    Its form field cleans the text as it comes in, so an unchanged textarea is an unchanged form;
    saving cleans it too, for code that sets the text without a form.
    """

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": ProseFormField, **kwargs})

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if value:
            value = clean_text(value)
            setattr(model_instance, self.attname, value)
        return value

    def deconstruct(self):
        # The column is a plain TEXT one: to migrations this is a TextField, so none depends on this module,
        # and none rebuilds the table (on SQLite that would also drop the search index's triggers).
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.TextField", args, kwargs


class LineField(models.CharField):
    """A CharField for one line of text (headline, byline, credit, alt text, names), cleaned as ProseField's
    text is, its line breaks made spaces."""

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": LineFormField, **kwargs})

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if value:
            value = clean_text(value, one_line=True)
            setattr(model_instance, self.attname, value)
        return value

    def deconstruct(self):
        # As ProseField's: a plain VARCHAR column, so no migration depends on this module or alters the table.
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs
