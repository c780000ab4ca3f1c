"""Rules about a story's text that every way in shares: the dump parser, the admin's forms, any future API.

No ORM here, so the parser (and its tests) can use it without a database.
"""

import re

RTL_LETTER = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
HEBREW_LETTER = re.compile(r"[\u0590-\u05ff]")
LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")


def unify_line_breaks(text):
    """Windows' "\\r\\n" and old Macs' lone "\\r" as "\\n", the only line break stored.

    Browsers send a textarea's line breaks as "\\r\\n"; stored as such, a body's blank lines would no longer
    separate paragraphs (see paragraphs()) and the text would differ from the same text imported.
    Takes bytes too: the dump parser unifies line breaks before decoding, to name the line of a bad byte.
    """
    cr, lf = ("\r", "\n") if isinstance(text, str) else (b"\r", b"\n")
    if cr not in text:
        return text
    return text.replace(cr + lf, lf).replace(cr, lf)


def paragraphs(body):
    """A body's paragraphs: it separates them with a blank line."""
    return [p for p in body.split("\n\n") if p.strip()]


def detect_language(headline, body_paragraphs):
    """The story's language (a BCP 47 code) as far as its script tells: Arabic, Hebrew, or else English.

    The headline and first paragraph are enough, and reading no more keeps imports fast.
    """
    text = " ".join([headline, *body_paragraphs[:1]])
    rtl = len(RTL_LETTER.findall(text))
    if rtl and rtl >= len(LATIN_LETTER.findall(text)):
        return "he" if HEBREW_LETTER.search(text) else "ar"
    return "en"
