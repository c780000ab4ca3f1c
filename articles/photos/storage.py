import os
import posixpath
import uuid

from django.core.files.storage import FileSystemStorage


class MediaStorage(FileSystemStorage):
    """Local-disk media where a file appears whole or not at all.

    Django's FileSystemStorage creates a file under its final name and then writes it, so another server
    answering the first request for the same rendition could find it half-written. Here the file is written
    under a temporary name and then hard-linked to its own: linking is atomic and, like O_EXCL, fails when the
    name is taken, in which case another name is picked as usual (the storage API never overwrites).
    """

    def _save(self, name, content):
        partial = self._save_partial(name, content)
        try:
            if self._allow_overwrite:
                os.replace(self.path(partial), self.path(name))
                return name
            while True:
                try:
                    os.link(self.path(partial), self.path(name))
                    return name
                except FileExistsError:
                    name = self.get_available_name(name)
        finally:
            if os.path.exists(self.path(partial)):
                os.remove(self.path(partial))

    def replace(self, name, content):
        """Write `content` as `name` in place of the file there, atomically: readers get the old file or the new."""
        partial = self._save_partial(name, content)
        try:
            os.replace(self.path(partial), self.path(name))
        except BaseException:
            os.remove(self.path(partial))
            raise
        return name

    def _save_partial(self, name, content):
        directory, filename = posixpath.split(name)
        partial = posixpath.join(directory, f".partial-{uuid.uuid4().hex[:12]}-{filename}")
        try:
            return super()._save(partial, content)
        except BaseException:
            # A full disk (ENOSPC) or any failure part-way: leave no half-written file behind.
            if os.path.exists(self.path(partial)):
                os.remove(self.path(partial))
            raise
