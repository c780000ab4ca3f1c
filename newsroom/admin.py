"""The admin site, and how it keeps working while an import writes to SQLite.

SQLite has one write lock for the whole database. The settings make every transaction take it when it
starts (transaction_mode IMMEDIATE, which avoids deadlocks between two writers), and Django's admin and
django-reversion wrap their views in transactions even when they only read. So here:

- pages asked for with a safe method (GET, HEAD) run their transactions DEFERRED: they read from WAL
  snapshots and never wait for a writer, nor hold anyone up;
- a change that must wait for the lock longer than the busy timeout (an import is writing) is refused
  with BUSY_MESSAGE instead of a 500: on a change form, as a form error with the form as typed
  (`BusyAwareAdmin`); anywhere else, as a message (`NewsroomAdminSite.admin_view`).

On PostgreSQL none of this comes into play: its transactions take row locks only.
"""

import contextlib
from functools import update_wrapper

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.apps import AdminConfig
from django.db import OperationalError, connection
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse

BUSY_MESSAGE = "An import is running; your changes were not saved yet — save again in a moment."
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def database_busy(exc):
    """Whether an error is SQLite's "database is locked": the write lock stayed taken for the busy timeout."""
    return isinstance(exc, OperationalError) and "database is locked" in str(exc)


@contextlib.contextmanager
def deferred_transactions():
    """On SQLite, transactions started inside begin DEFERRED: no write lock unless they write."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    connection.ensure_connection()  # connecting sets transaction_mode from the settings
    mode = connection.transaction_mode
    connection.transaction_mode = "DEFERRED"
    try:
        yield
    finally:
        connection.transaction_mode = mode


class NewsroomAdminSite(admin.AdminSite):
    def admin_view(self, view, cacheable=False):
        checked = super().admin_view(view, cacheable)

        def wrapper(request, *args, **kwargs):
            return self.while_importing(checked, request, *args, **kwargs)

        return update_wrapper(wrapper, checked)

    def login(self, request, extra_context=None):
        # A login writes too (the session, the last login, django-axes' records).
        return self.while_importing(super().login, request, extra_context)

    def while_importing(self, view, request, *args, **kwargs):
        """Run an admin view so that it neither waits for an import's write lock to read, nor answers 500
        when it must wait too long to write."""
        try:
            if request.method in SAFE_METHODS:
                with deferred_transactions():
                    return view(request, *args, **kwargs)
            return view(request, *args, **kwargs)
        except OperationalError as exc:
            if not database_busy(exc):
                raise
        if request.method in SAFE_METHODS:  # a page that writes to show itself (a revision's form)
            context = {**self.each_context(request), "title": "Try again in a moment", "message": BUSY_MESSAGE}
            response = TemplateResponse(request, "admin/busy.html", context, status=503)
            response["Retry-After"] = "5"
            return response
        messages.error(request, BUSY_MESSAGE)
        return HttpResponseRedirect(request.get_full_path())


class BusyForm(forms.BaseForm):
    """Mixed into a change form whose save found the database busy: shown again as typed, with the reason."""

    def clean(self):
        self.add_error(None, BUSY_MESSAGE)
        return super().clean()


class BusyAwareAdmin(admin.ModelAdmin):
    """A change form whose save waited too long for the write lock is shown again, as typed, with
    BUSY_MESSAGE as its error; nothing was saved (the transaction never began)."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if getattr(request, "database_busy", False):
            form = type(form.__name__, (BusyForm, form), {})
        return form

    def add_view(self, request, form_url="", extra_context=None):
        return self.keeping_the_form(super().add_view, request, form_url, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return self.keeping_the_form(super().change_view, request, object_id, form_url, extra_context)

    def keeping_the_form(self, view, request, *args):
        try:
            return view(request, *args)
        except OperationalError as exc:
            if not database_busy(exc) or request.method in SAFE_METHODS:
                raise
        request.database_busy = True  # the form is invalid this time, so nothing is written
        with deferred_transactions():
            return view(request, *args)


def admin_form(form):
    """A plain form laid out as the admin lays out a model's form: one aligned fieldset, with help texts and errors
    (render it with admin/articles/article/includes/form.html)."""
    return admin.helpers.AdminForm(form, [(None, {"fields": list(form.fields)})], prepopulated_fields={})


class NewsroomAdminConfig(AdminConfig):
    default_site = "newsroom.admin.NewsroomAdminSite"
