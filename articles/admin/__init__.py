"""The editorial desk: stories, captions, bylines, corrections, redirects, sections, routing rules, authors,
fronts and the API's keys.

Roles are the Reporters and Editors groups (migration 0005). Every path that changes a story's status
or what readers see of it (the change form and its inlines, a revert or recovery, bulk actions, the import
page, the photo admin, preview links) asks `workflow` on the server, so hiding a button is never the only
guard. Saves carry the version the editor loaded; the UPDATE refuses a stale one (see Article._do_update),
and a save made after someone else's is merged with it three ways or refused with both versions (merge.py),
so a second concurrent save cannot overwrite the first.
"""

from . import apikeys, authors, fronts, importing, photos, previews, stories, topics, webhooks, wire  # noqa: F401 (importing them registers their admins)
