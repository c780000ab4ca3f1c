"""Photo work done by the workers (`manage.py db_worker`), never in a request: finishing a JPEG original (its
orientation and colour profile applied, renditions.finish_original) and making renditions.

Saving a photo enqueues `make_renditions` once the save commits (Photo.save); `regenerate_renditions`
enqueues it for every photo (or runs it in its own process with --inline).
"""

from django.tasks import task

from ..models import Article, Photo
from ..pagecache import content_changed, story_states
from . import renditions


@task
def make_renditions(photo_pk, *, fill_gaps=False, replace=False):
    """Make a photo's renditions, then show them on its stories' pages. Returns how many files were written.

    Safe to run any number of times, in any order, on any worker: a photo whose renditions are current is
    left alone (unless asked to `fill_gaps` left in storage, or to `replace` every file), a photo deleted
    meanwhile is no error, and what is made is the photo as the task finds it: a later save queues another.
    """
    photo = Photo.objects.exclude(image="").filter(pk=photo_pk).first()
    if photo is None:
        return 0
    was_ready = renditions.ready(photo)
    if was_ready and not (fill_gaps or replace):
        return 0
    written = renditions.generate(photo, force=replace)
    if not was_ready and renditions.ready(photo):
        # Pages cached while the photo showed only its caption are stale now (pagecache.py).
        content_changed(story_states(Article.objects.filter(captions__photo=photo_pk)))
    return written
