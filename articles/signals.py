"""Old URLs keep working: when a published story's slug, section or date changes, its old URL redirects."""

from django.db.models.signals import post_save, pre_save

from .models import Article, Redirect


def remember_public_url(sender, instance, raw, **kwargs):
    instance._public_url_before_save = None
    if raw or instance.pk is None:
        return
    before = Article.objects.published().select_related("section").filter(pk=instance.pk).first()
    if before is not None:
        instance._public_url_before_save = before.get_absolute_url()


def redirect_old_url(sender, instance, raw, **kwargs):
    old_url = getattr(instance, "_public_url_before_save", None)
    if raw or old_url is None:
        return
    new_url = instance.get_absolute_url()
    if new_url == old_url:
        return
    Redirect.objects.update_or_create(old_path=old_url, defaults={"article": instance})
    # The story may be moving back to a URL it had before; that URL is its own again.
    Redirect.objects.filter(old_path=new_url).delete()


def connect():
    pre_save.connect(remember_public_url, sender=Article, dispatch_uid="articles.remember_public_url")
    post_save.connect(redirect_old_url, sender=Article, dispatch_uid="articles.redirect_old_url")
