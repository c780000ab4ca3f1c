"""Photo uploads judged by their decoded content and stored cleaned, whatever path they come in by."""

import errno
import logging
import secrets
from pathlib import PurePosixPath

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models

from . import images

logger = logging.getLogger(__name__)


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
    """An ImageField that stores every new file cleaned: without EXIF/XMP metadata (GPS position, camera serial
    numbers), upright (a JPEG once the worker has finished it; its width and height are upright from the start),
    under a random name with its real format's extension. A file that is not an acceptable image raises
    images.UploadRejected before anything is stored.
    """

    default_validators = []

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": PhotoFormField, **kwargs})

    def pre_save(self, model_instance, add):
        self.store(model_instance)
        return super().pre_save(model_instance, add)

    def store(self, model_instance):
        """Clean and store the instance's new upload, if it has one (once: afterwards it is committed).

        Saving the instance does this first, before its row is written, so a storage failure (OSError: a
        full disk, an unreachable bucket) leaves no row pointing at a file that is not there. A form calls
        it while validating (StoredPhotoForm), to show such a failure as a form error.
        """
        file = getattr(model_instance, self.attname)
        # _committed is how FileField itself tells a new upload from the file already in storage.
        if file and not file._committed:
            # Cleaned already when it came through the form (PhotoFormField); otherwise (shell, code) now.
            cleaned = getattr(file.file, "cleaned_image", None) or images.clean(file.file, **upload_limits())
            if hasattr(model_instance, "original_name"):  # the name it came under, for editors (Photo)
                model_instance.original_name = PurePosixPath(file.name).name[:255]
            file.save(stored_name(cleaned.extension), ContentFile(cleaned.data), save=False)
            setattr(model_instance, self.width_field, cleaned.width)
            setattr(model_instance, self.height_field, cleaned.height)


def storage_failure_message(error):
    if error.errno == errno.ENOSPC:
        problem = "the media storage is full"
    else:
        problem = "the media storage failed"
    return (
        f"The photo could not be stored: {problem}. Nothing was saved. Try again later, and tell the site's "
        "administrators if it keeps happening."
    )


class StoredPhotoForm(forms.ModelForm):
    """A model form whose new photo is stored while validating, so that a storage failure is a form error
    (and nothing saved) rather than a server error part-way through saving.

    A photo stored by a form that then fails to save (the database refusing) stays in storage unreferenced:
    `regenerate_renditions --prune` does not touch originals, but nothing points at it either.
    """

    photo_field = "image"

    def _post_clean(self):
        super()._post_clean()
        if self._errors or self.photo_field not in self.changed_data:
            return
        try:
            self.instance._meta.get_field(self.photo_field).store(self.instance)
        except OSError as error:
            logger.exception("Could not store an uploaded photo")
            self.add_error(self.photo_field, ValidationError(storage_failure_message(error), code="storage_failed"))
