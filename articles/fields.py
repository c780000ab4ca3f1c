"""Fields whose rule holds whatever path the value comes in by: prose stored with one kind of line break,
photo uploads judged by their decoded content and stored cleaned."""

import secrets

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models

from . import images
from .text import unify_line_breaks


class ProseFormField(forms.CharField):
    """Multi-line text as editors type it, with the line breaks as stored (browsers send "\r\n")."""

    widget = forms.Textarea

    def to_python(self, value):
        return unify_line_breaks(super().to_python(value))


class ProseField(models.TextField):
    """A TextField for what editors write in several lines (body, standfirst, captions, notes).

    Its form field unifies line breaks as they come in, so an unchanged textarea is an unchanged form;
    saving unifies them too, for code that sets the text without a form.
    """

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": ProseFormField, **kwargs})

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if value:
            value = unify_line_breaks(value)
            setattr(model_instance, self.attname, value)
        return value

    def deconstruct(self):
        # The column is a plain TEXT one: to migrations this is a TextField, so none depends on this module,
        # and none rebuilds the table (on SQLite that would also drop the search index's triggers).
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.TextField", args, kwargs


def upload_limits():
    return {
        "max_bytes": int(settings.PHOTO_MAX_UPLOAD_MB * 1_000_000),
        "max_pixels": int(settings.PHOTO_MAX_MEGAPIXELS * 1_000_000),
        "max_frames": settings.PHOTO_MAX_FRAMES,
    }


class PhotoFormField(forms.ImageField):
    # The file name proves nothing: no extension check, the content is what gets checked.
    default_validators = []

    def to_python(self, data):
        file = forms.FileField.to_python(self, data)
        if file is None:
            return None
        try:
            # Cleaned here, not only when saved: whatever the file holds that cannot be stored is the editor's
            # form error, never a crash on save. The model field stores this result.
            cleaned = images.clean(file, **upload_limits())
        except images.UploadRejected as rejected:
            raise ValidationError(rejected.message, code=rejected.code) from None
        file.cleaned_image = cleaned
        file.content_type = cleaned.mime_type
        file.seek(0)
        return file


def stored_name(extension):
    """A new original's file name: random, so nothing about the story shows in its URL or can be guessed
    (the uploaded name, "minister-resignation-draft.jpg", is kept in Photo.original_name for editors)."""
    return f"{secrets.token_hex(16)}.{extension}"


class PhotoImageField(models.ImageField):
    """An ImageField that stores every new file cleaned: upright, without EXIF/XMP metadata (GPS position,
    camera serial numbers), under a random name with its real format's extension. A file that is not an
    acceptable image raises images.UploadRejected before anything is stored.
    """

    default_validators = []

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": PhotoFormField, **kwargs})

    def pre_save(self, model_instance, add):
        file = getattr(model_instance, self.attname)
        # _committed is how FileField itself tells a new upload from the file already in storage.
        if file and not file._committed:
            # Cleaned already when it came through the form (PhotoFormField); otherwise (shell, code) now.
            cleaned = getattr(file.file, "cleaned_image", None) or images.clean(file.file, **upload_limits())
            file.save(stored_name(cleaned.extension), ContentFile(cleaned.data), save=False)
            setattr(model_instance, self.width_field, cleaned.width)
            setattr(model_instance, self.height_field, cleaned.height)
        return super().pre_save(model_instance, add)
