import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from articles.models import Article

DEMO_USERNAME = "editor"


class Command(BaseCommand):
    help = (
        "Prepare a development site: load the sample stories on first run and (re)create the demo editor "
        "account (staff, in the Editors group) with a fresh random password, which it prints."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            if not Article.objects.exists():
                call_command("loaddata", settings.BASE_DIR / "fixtures" / "sample.json", verbosity=0)
                self.stdout.write(f"Loaded the sample stories ({Article.objects.count()}).")
            password = secrets.token_urlsafe(12)
            user, _ = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
            # A real editor, not a superuser, so the demo shows what the Editors group may do.
            user.is_staff, user.is_superuser = True, False
            user.set_password(password)
            user.save()
            user.groups.add(Group.objects.get(name="Editors"))
        self.stdout.write(
            self.style.SUCCESS(f"Demo editor: username {DEMO_USERNAME!r}, password {password!r} (log in at /admin/)")
        )
