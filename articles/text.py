"""Rules about a story's text that every way in shares: the dump parser, the admin's forms, any future API.

No ORM here, so the parser (and its tests) can use it without a database.
"""

import re

RTL_LETTER = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
HEBREW_LETTER = re.compile(r"[\u0590-\u05ff]")
LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")

# C0's control characters but tab and line feed, and DEL: none means anything in a story, and XML 1.0 cannot carry
# most of them (one vertical tab pasted into a story took every feed down). clean_text() removes them, but for
# the carriage return (a line break), the vertical tab and the form feed (spaces).
CONTROLS = "".join(map(chr, [*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F]))
# {(type of the text, one_line): (what finds text to clean, how to clean it: str.translate's or bytes.translate's
# arguments)}. One-line text has its line breaks as spaces too.
CLEANING = {
    (str, False): (re.compile("[\x00-\x08\x0b-\x1f\x7f]"), [str.maketrans("\v\f", "  ", CONTROLS)]),
    (str, True): (re.compile("[\x00-\x08\x0a-\x1f\x7f]"), [str.maketrans("\n\v\f", "   ", CONTROLS)]),
    (bytes, False): (re.compile(b"[\x00-\x08\x0b-\x1f\x7f]"), [bytes.maketrans(b"\v\f", b"  "), CONTROLS.encode()]),
    (bytes, True): (re.compile(b"[\x00-\x08\x0a-\x1f\x7f]"), [bytes.maketrans(b"\n\v\f", b"   "), CONTROLS.encode()]),
}
# What XML 1.0 cannot carry at all (https://www.w3.org/TR/xml/#charsets), text stored before clean_text or not.
NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


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


def clean_text(text, *, one_line=False):
    """Text as it is stored, whichever way it comes in: forms, model saves, the dump parser (which cleans the
    bytes it reads, before decoding them: bytes are cleaned as text is).

    Line breaks become "\\n" (unify_line_breaks), and every control character but tab and line break is
    removed, except two that word processors write: a vertical tab (Word's manual line break, Shift+Enter) and
    a form feed (a page break) become a space. A line break inside a paragraph shows as a space on the site
    anyway, and a space keeps the words apart without adding a line to a dump, whose lines are its grammar and
    are what its errors point to; so the same paste gives the same text in a form and in a dump. In one-line
    text (`one_line`: a headline, a byline, a credit) line breaks become spaces too, as browsers make them when
    several lines are pasted into one.
    """
    if not text:
        return text
    needs_cleaning, translation = CLEANING[str if isinstance(text, str) else bytes, one_line]
    if not needs_cleaning.search(text):
        return text  # nearly all text: one scan at C speed
    return unify_line_breaks(text).translate(*translation)


def xml_safe(text):
    """The text without what XML 1.0 cannot carry, for feeds and sitemaps: they must stay well-formed even
    with text stored before clean_text() existed."""
    return NOT_XML.sub("", text) if text else text


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
