"""The Import page and its jobs: upload a dump; a worker runs the dry run, the editor reads its report on the
job's page and confirms; a worker runs the import (articles/tasks.py), the same run as `manage.py import_dump`.

The job page shows progress while a worker has the job: static/articles/import-job.js polls the job's status
view, which sends the page's job panel again (the CSP allows no inline script). Every action on a job (confirm,
cancel, run again) is a POST checked here on the server: the job is the user's own (an editor may act on any),
and stories are imported as published only by an editor, checked at the upload and again at the confirmation.
"""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import storages
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.html import format_html
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from newsroom.admin import admin_form

from ..dump import MB
from ..models import Article, ImportJob, Section
from ..tasks import again, queue, recover_lost, send
from ..workflow import can_publish

ABANDONED_AFTER = timedelta(days=1)  # a dry run not confirmed by then is cancelled, its upload deleted
JOB_PAGE = "admin/articles/importjob/job.html"


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


def purge_abandoned_uploads():
    """Cancel the dry runs never confirmed, and delete their uploads and any upload no job holds (a request
    that died between storing the file and saving its job)."""
    storage = storages["imports"]
    cutoff = timezone.now() - ABANDONED_AFTER
    for job in ImportJob.objects.filter(state=ImportJob.State.AWAITING_CONFIRMATION, finished_at__lt=cutoff):
        if ImportJob.objects.filter(pk=job.pk, state=job.state).update(state=ImportJob.State.CANCELLED):
            storage.delete(job.file)
    try:
        _, names = storage.listdir("")
    except FileNotFoundError:
        return
    kept = set(
        ImportJob.objects.filter(state__in=[*ImportJob.UNFINISHED, ImportJob.State.FAILED]).values_list(
            "file", flat=True
        )
    )
    for name in set(names) - kept:
        if storage.get_modified_time(name) < cutoff:
            storage.delete(name)


class ImportPages:
    """ArticleAdmin's Import page."""

    @csrf_exempt  # not exempt: checked below, once the upload limit is in place (it must come before the body is read)
    def import_view(self, request):
        """Upload a dump: its dry run is queued, and the editor is taken to the job's page."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        upload_limit = UploadLimit(request, settings.IMPORT_MAX_UPLOAD_MB * MB)
        request.upload_handlers.insert(0, upload_limit)
        return csrf_protect(self.import_page)(request, upload_limit)

    def import_page(self, request, upload_limit):
        context = {**self.admin_site.each_context(request), "title": "Import dump", "opts": self.model._meta}
        form = ImportForm(
            request.POST or None, request.FILES or None, user=request.user, upload_too_large=upload_limit.exceeded
        )
        context["form"], context["adminform"] = form, admin_form(form)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["dump"]
            purge_abandoned_uploads()
            stored = storages["imports"].save(f"{get_random_string(32)}.dump", upload)  # streamed, not read whole
            job = ImportJob.objects.create(
                user=request.user,
                name=upload.name[:255],
                file=stored,
                size=upload.size,
                section=form.cleaned_data["section"],
                stories_status=form.cleaned_data["status"],
                skip_invalid=form.cleaned_data["skip_invalid"],
            )
            send(job)
            return HttpResponseRedirect(job.get_absolute_url())
        context["recent"] = ImportJob.objects.visible_to(request.user).select_related("user")[:5]
        return TemplateResponse(request, "admin/articles/article/import.html", context)


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("unfinished", "Not finished"), *ImportJob.State.choices]

    def queryset(self, request, queryset):
        if self.value() == "unfinished":
            return queryset.filter(state__in=ImportJob.UNFINISHED)
        if self.value():
            return queryset.filter(state=self.value())
        return queryset


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """The dumps uploaded through the Import page, newest first; a job's own page is its progress and report."""

    list_display = ["name", "user", "state", "counts", "stories_status", "started_at", "finished_at", "error"]
    list_filter = [StateFilter, "stories_status", "created_at"]
    search_fields = ["name", "error"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]

    # Who may see jobs: whoever may import (add stories); reporters see their own (get_queryset).
    def has_view_permission(self, request, obj=None):
        may_import = request.user.has_perm("articles.add_article")
        return may_import and (obj is None or obj.user_id == request.user.pk or can_publish(request.user))

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False  # jobs are made by uploading on the Import page

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_list_filter(self, request):
        return [*self.list_filter, "user"] if can_publish(request.user) else self.list_filter  # reporters: their own

    def get_queryset(self, request):
        recover_lost()
        return super().get_queryset(request).visible_to(request.user)

    @admin.display(description="created, updated, unchanged, conflicts, invalid")
    def counts(self, job):
        report = job.report
        if not report:
            return "–"
        numbers = [
            report["created"],
            report["updated"],
            report["unchanged"],
            len(report["conflicts"]),
            len(report["errors"]),
        ]
        return format_html("{}{}", ", ".join(map(str, numbers)), " (dry run)" if job.dry_run else "")

    def get_urls(self):
        view = self.admin_site.admin_view
        return (
            [
                path("<int:job_id>/status/", view(never_cache(self.status_view)), name="articles_importjob_status"),
            ]
            + [
                path(
                    f"<int:job_id>/{action}/",
                    view(self.action_view),
                    {"action": action},
                    name=f"articles_importjob_{action}",
                )
                for action in ["confirm", "cancel", "retry"]
            ]
            + super().get_urls()
        )

    def get_job_or_404(self, request, job_id):
        recover_lost(ImportJob.objects.filter(pk=job_id))
        job = get_object_or_404(ImportJob.objects.select_related("user", "section"), pk=job_id)
        if not self.has_view_permission(request, job):
            raise PermissionDenied
        return job

    def job_context(self, request, job):
        return {
            "job": job,
            "progress": job.progress(),
            "may_confirm": self.may_confirm(request, job),
            "may_cancel": self.may_act(request, job) and job.state in ImportJob.UNFINISHED and not job.writing_at,
            "may_retry": self.may_act(request, job) and job.state == ImportJob.State.FAILED and job.retryable,
            "waiting_long": job.state in ImportJob.CLAIMS
            and job.created_at < timezone.now() - timedelta(minutes=1)
            and not job.started_at,
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The job's page: its progress while a worker has it, then its report and what to do next."""
        if not str(object_id).isdigit():
            raise Http404
        job = self.get_job_or_404(request, object_id)
        context = {
            **self.admin_site.each_context(request),
            **self.job_context(request, job),
            "title": str(job),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, JOB_PAGE, context)

    def status_view(self, request, job_id):
        """The job's state and progress, and its panel as the page shows it (import-job.js puts it in place)."""
        job = self.get_job_or_404(request, job_id)
        context = self.job_context(request, job)
        return JsonResponse(
            {
                "state": job.state,
                "active": job.active,
                "writing": job.active and job.writing_at is not None,
                "progress": context["progress"],
                "html": render_to_string(f"{JOB_PAGE}#panel", context, request),
            }
        )

    def may_act(self, request, job):
        return job.user_id == request.user.pk or can_publish(request.user)

    def may_confirm(self, request, job):
        """Only the one who uploaded it confirms; as published, only an editor (whatever the upload said)."""
        if job.state != ImportJob.State.AWAITING_CONFIRMATION or job.user_id != request.user.pk:
            return False
        return job.stories_status != Article.Status.PUBLISHED or can_publish(request.user)

    def action_view(self, request, job_id, action):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        job = self.get_job_or_404(request, job_id)
        context = self.job_context(request, job)
        if action == "confirm":
            if not context["may_confirm"]:
                raise PermissionDenied("This import cannot be confirmed (by you, or any more).")
            queued = ImportJob.State.IMPORT_QUEUED
            queue(job, state=queued, confirmed_at=timezone.now(), only_from=ImportJob.State.AWAITING_CONFIRMATION)
        elif action == "retry":
            if not context["may_retry"]:
                raise PermissionDenied("Only a job whose worker stopped can be run again.")
            queue(job, state=again(job), only_from=ImportJob.State.FAILED, times_lost=0)
        elif action == "cancel":
            if not context["may_cancel"]:
                raise PermissionDenied("This job can no longer be cancelled.")
            self.cancel(request, job)
        else:
            raise PermissionDenied
        return HttpResponseRedirect(job.get_absolute_url())

    def cancel(self, request, job):
        """A job that no worker is running is cancelled at once; a running one stops at its next batch of stories,
        before it writes anything (once it writes, in one transaction, it can no longer be cancelled)."""
        waiting = [*ImportJob.CLAIMS, ImportJob.State.AWAITING_CONFIRMATION]
        jobs = ImportJob.objects.filter(pk=job.pk)
        if jobs.filter(state__in=waiting).update(state=ImportJob.State.CANCELLED, cancel_requested=True):
            storages["imports"].delete(job.file)
            self.message_user(request, f"{job} is cancelled: nothing from it was imported.", messages.INFO)
        elif jobs.filter(writing_at=None).update(cancel_requested=True):
            self.message_user(request, f"{job} stops after its current batch of stories; nothing from it is imported.")
