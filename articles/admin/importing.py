"""The Import page: upload a dump, read the dry run, confirm; the same import run as `manage.py import_dump`."""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import storages
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from newsroom.admin import admin_form

from ..dump import MB
from ..importer import ImportFailed
from ..imports import StoredDump, import_run
from ..models import Article, Section
from ..workflow import can_publish

IMPORT_SALT = "articles.admin-import"
IMPORT_TOKEN_AGE = 60 * 60  # seconds between the dry run and the confirmation


class ImportForm(forms.Form):
    dump = forms.FileField(help_text="A dump file, plain text or gzip-compressed (see docs/dump-format.md).")
    section = forms.ModelChoiceField(
        Section.objects.all(), required=False, empty_label="Route by keywords", help_text="Put every story here."
    )
    status = forms.ChoiceField(choices=[(Article.Status.DRAFT, "Draft"), (Article.Status.PUBLISHED, "Published")])
    skip_invalid = forms.BooleanField(required=False, help_text="Import the valid stories and list the invalid ones.")

    def __init__(self, *args, user, upload_too_large=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if not can_publish(user):
            self.fields["status"].choices = [(Article.Status.DRAFT, "Draft")]
        if upload_too_large:  # UploadLimit dropped the file, so the field is empty: say why
            self.fields["dump"].error_messages["required"] = self.too_large_message()

    @staticmethod
    def too_large_message():
        return (
            f"The dump is larger than {settings.IMPORT_MAX_UPLOAD_MB:,} MB, the most this page accepts. "
            "Upload it gzip-compressed or in parts, or import it on the server with manage.py import_dump."
        )

    def clean_dump(self):
        dump = self.cleaned_data["dump"]
        if dump.size > settings.IMPORT_MAX_UPLOAD_MB * MB:
            raise ValidationError(self.too_large_message())
        return dump


class UploadLimit(FileUploadHandler):
    """Drops an upload to the Import page once it passes the limit, instead of storing a gigabyte: the
    rest of it is read and discarded, and the temporary file a later handler had begun is closed, which
    deletes it. The form then says the dump was too large."""

    def __init__(self, request, limit):
        super().__init__(request)
        self.limit = limit
        self.exceeded = False

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.exceeded = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler makes the file


def run_importer(job, *, dry_run, user):
    """Import a stored upload (dry_run first, for the report, then for real): its Outcome, or ImportFailed."""
    section = Section.objects.filter(pk=job["section"]).first() if job["section"] else None
    return import_run(
        [StoredDump(storages["imports"], job["file"], name=job["name"])],
        section=section,
        status=job["status"],
        dry_run=dry_run,
        skip_invalid=job["skip_invalid"],
        user=user,
    )


def purge_abandoned_uploads():
    """Delete uploads whose dry run was never confirmed (their confirmation has expired anyway)."""
    storage = storages["imports"]
    cutoff = timezone.now() - timedelta(seconds=IMPORT_TOKEN_AGE)
    try:
        _, names = storage.listdir("")
    except FileNotFoundError:
        return
    for name in names:
        if storage.get_modified_time(name) < cutoff:
            storage.delete(name)


class ImportPages:
    """ArticleAdmin's Import page."""

    @csrf_exempt  # not exempt: checked below, once the upload limit is in place (it must come before the body is read)
    def import_view(self, request):
        """Upload a dump, read the dry-run report, confirm: the same import run as `manage.py import_dump`."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        upload_limit = UploadLimit(request, settings.IMPORT_MAX_UPLOAD_MB * MB)
        request.upload_handlers.insert(0, upload_limit)
        return csrf_protect(self.import_page)(request, upload_limit)

    def import_page(self, request, upload_limit):
        context = {**self.admin_site.each_context(request), "title": "Import dump", "opts": self.model._meta}
        if request.method == "POST" and "token" in request.POST:
            return self.run_import(request)
        form = ImportForm(
            request.POST or None, request.FILES or None, user=request.user, upload_too_large=upload_limit.exceeded
        )
        context["form"], context["adminform"] = form, admin_form(form)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["dump"]
            purge_abandoned_uploads()
            stored = storages["imports"].save(f"{get_random_string(32)}.dump", upload)  # streamed, not read whole
            job = {
                "file": stored,
                "name": upload.name,
                "section": form.cleaned_data["section"].pk if form.cleaned_data["section"] else None,
                "status": form.cleaned_data["status"],
                "skip_invalid": form.cleaned_data["skip_invalid"],
                "user": request.user.pk,
            }
            try:
                context["outcome"] = run_importer(job, dry_run=True, user=request.user)
            except ImportFailed as exc:
                context["error"] = str(exc)
            context["job"] = job
            context["token"] = signing.dumps(job, salt=IMPORT_SALT)
        return TemplateResponse(request, "admin/articles/article/import.html", context)

    def run_import(self, request):
        try:
            job = signing.loads(request.POST["token"], salt=IMPORT_SALT, max_age=IMPORT_TOKEN_AGE)
        except signing.BadSignature:
            self.message_user(request, "That import expired; upload the dump again.", messages.ERROR)
            return HttpResponseRedirect(request.path)
        if job["user"] != request.user.pk:
            raise PermissionDenied
        if job["status"] == Article.Status.PUBLISHED and not can_publish(request.user):
            raise PermissionDenied("Only editors can import stories as published.")
        if not storages["imports"].exists(job["file"]):
            self.message_user(request, "That dump was already imported, or has expired.", messages.ERROR)
            return HttpResponseRedirect(request.path)
        try:
            outcome = run_importer(job, dry_run=False, user=request.user)
        except ImportFailed as exc:
            self.message_user(request, f"Nothing was imported: {exc}", messages.ERROR)
            return HttpResponseRedirect(request.path)
        finally:
            storages["imports"].delete(job["file"])
        LogEntry.objects.create(
            user=request.user,
            content_type=ContentType.objects.get_for_model(Article),
            object_repr=f"Import of {job['name']}"[:200],
            action_flag=ADDITION,
            change_message=f"Imported {job['name']}: {outcome.summary()}",
        )
        self.message_user(request, f"Imported {job['name']}: {outcome.summary()}.")
        for conflict in outcome.conflicts:
            self.message_user(request, f"Conflict: {conflict}", messages.WARNING)
        for error in outcome.errors:
            self.message_user(request, f"Skipped: {error}", messages.WARNING)
        return HttpResponseRedirect(reverse("admin:articles_article_changelist"))
