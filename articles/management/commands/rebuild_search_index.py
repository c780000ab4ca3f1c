from django.core.management.base import BaseCommand
from django.db import transaction

from articles import search
from articles.models import Article


class Command(BaseCommand):
    help = (
        "Re-index every story for search. Database triggers keep the index current, and migrate reinstalls "
        "them; this is for repairs, e.g. after restoring the article table from a backup without its index."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            search.install()
            search.rebuild()
        self.stdout.write(f"Re-indexed {Article.objects.count()} stories.")
