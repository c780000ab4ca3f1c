"""Two editors, one story: merge their saves three ways instead of letting the later one overwrite.

The change form carries, signed, the story as the editor loaded it (the *base*). On a save, each field
is compared three ways: base, *theirs* (the story as it is now) and *mine* (what the editor submitted).
A field only they changed keeps theirs, one only I changed takes mine, one both changed alike is fine,
and one both changed differently is a conflict the editor must settle. So a save never drops a change
the editor did not make. Captions are compared as a whole in the same way (CaptionFormSet).
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.core import signing
from django.db.models import Model
from django.utils import timezone

from .text import unify_line_breaks

SALT = "articles.edit-base"


def text(value):
    """A value as editors read it and as both sides of a merge compare it.

    Browsers send line breaks as CRLF and forms strip surrounding spaces, so neither counts as a change;
    times count to the second, as the form shows them.
    """
    if value is None:
        return ""
    if isinstance(value, Model):
        return str(value)
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    return unify_line_breaks(str(value)).strip()


def sign(state):
    return signing.dumps(state, salt=SALT, compress=True)


def unsign(token):
    """The state signed into a form, or None if there is none (or it was tampered with)."""
    if not token:
        return None
    try:
        return signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None


@dataclass
class Merge:
    values: dict = field(default_factory=dict)  # name -> the value to save, theirs or mine
    theirs_taken: list = field(default_factory=list)  # fields only they changed
    conflicts: list = field(default_factory=list)  # fields both changed, differently


def three_way(base, theirs, mine):
    """Merge `mine` ({name: value}) with `theirs` ({name: value}) given `base` ({name: text}).

    A field missing from base (no record of what the editor loaded) is a conflict unless both agree:
    asking is safe, guessing is not.
    """
    merge = Merge()
    for name, value in mine.items():
        was, now, wanted = base.get(name), text(theirs[name]), text(value)
        if wanted == now:
            merge.values[name] = value
        elif wanted == was:
            merge.values[name] = theirs[name]
            merge.theirs_taken.append(name)
        elif now == was:
            merge.values[name] = value
        else:
            merge.values[name] = value
            merge.conflicts.append(name)
    return merge
