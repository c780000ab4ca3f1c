"""Parse wire dumps into plain story records. No ORM here: see docs/dump-format.md for the grammar.

The parser streams: it holds one story at a time, so memory stays flat however large the dump.
It never raises on bad input; it yields a DumpError in place of the story it could not read and
carries on at the next story, so the importer decides whether one bad story stops the run.
"""

import codecs
import re
import unicodedata
import zlib
from collections import deque
from dataclasses import dataclass, field

from .text import clean_text, detect_language

MAX_LINE_BYTES = 1 << 20  # a "line" longer than this is not wire copy
CHUNK_BYTES = 1 << 20
MARKER = "TT"
# Article.headline's and Photo.credit's max_length (tests/test_dump.py checks): longer ones are refused here,
# with their line, rather than by the database (PostgreSQL refuses them; SQLite would keep them).
HEADLINE_MAX = 300
CREDIT_MAX = 200

# Characters that carry no text but break equality: byte-order marks left by concatenated files,
# zero-width spaces. (Zero-width joiners are kept: Arabic and Persian need them.)
INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u2060"), None)
# White space other than a plain space (str.split()'s set, less the newline) and runs of it.
ASCII_ODD_SPACES = "\t\x0b\x0c\x1c\x1d\x1e\x1f"
UNICODE_ODD_SPACES = (
    ASCII_ODD_SPACES
    + "\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
SPACE_RUN = re.compile(r"[^\S\n]+")
CREDIT = re.compile(r"^(?P<text>.*?)\s*\((?P<credit>[^()]+)\)\s*$")


@dataclass(frozen=True)
class CaptionRecord:
    text: str
    credit: str


@dataclass
class StoryRecord:
    headline: str
    captions: list[CaptionRecord]
    paragraphs: list[str]
    source: str
    line: int
    language: str = "en"

    @property
    def location(self):
        return f"{self.source}:{self.line}"


@dataclass
class DumpError:
    """A story (or a whole file) that could not be read: where, and what is wrong."""

    source: str
    line: int
    message: str
    headline: str = ""

    def __str__(self):
        return f"{self.source}:{self.line}: {self.message}"


@dataclass(slots=True)
class Block:
    """A run of non-blank lines, with the number of blank lines before it."""

    line: int
    lines: list[str]
    blanks_before: int
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def text(self):
        return " ".join(self.lines)


def clean(text):
    """Normalise what differs between copies of the same dump but not in meaning: spacing, NBSP, BOMs."""
    if not text.isascii():  # the fast path skips work that only non-ASCII text needs
        text = unicodedata.normalize("NFC", text)
        if "\ufeff" in text or "\u200b" in text or "\u2060" in text:
            text = text.translate(INVISIBLE)
    return " ".join(text.split())


def split_credit(caption):
    """'... in Moscow. (Reuters)' -> ('... in Moscow.', 'Reuters')."""
    match = CREDIT.match(caption)
    if not match or not match["text"]:
        return CaptionRecord(caption, "")
    return CaptionRecord(match["text"], clean(match["credit"]))


class FileError(Exception):
    def __init__(self, line, message):
        super().__init__(message)
        self.line = line
        self.message = message


def read_chunks(stream):
    """Yield (number of the first line, cleaned lines, {line number: decoding problem}) from a binary stream.

    Reads about a megabyte at a time and does the byte-level work (line endings, decoding, spacing) on
    the whole chunk, which is many times faster than line by line; a chunk that is not valid UTF-8 is
    re-read line by line to say exactly where.
    """
    lineno = 0
    while True:
        try:
            chunk = stream.read(CHUNK_BYTES)
            if chunk and not chunk.endswith(b"\n"):
                tail = stream.readline(MAX_LINE_BYTES + 1)  # finish the chunk's last line
                if len(tail) > MAX_LINE_BYTES:
                    raise FileError(
                        lineno + chunk.count(b"\n") + 1, f"line longer than {MAX_LINE_BYTES} bytes; not a text dump"
                    )
                chunk += tail
        except (OSError, EOFError, zlib.error) as exc:
            raise FileError(lineno + 1, f"cannot read the file: {exc}") from None
        if not chunk:
            return
        if lineno == 0:
            if chunk.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                raise FileError(1, "file is UTF-16 encoded; save it as UTF-8")
            chunk = chunk.removeprefix(codecs.BOM_UTF8)
        if (nul := chunk.find(b"\x00")) >= 0:
            raise FileError(lineno + chunk.count(b"\n", 0, nul) + 1, "binary data (NUL byte); not a text dump")
        chunk = clean_text(chunk)  # every \r ends a line too; no control characters (articles/text.py)
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError:
            raw_lines = chunk.split(b"\n")
            if raw_lines[-1] == b"":
                raw_lines.pop()
            lines, problems = [], {}
            for number, raw in enumerate(raw_lines, lineno + 1):
                try:
                    lines.append(clean(raw.decode("utf-8")))
                except UnicodeDecodeError as exc:
                    lines.append("")
                    problems[number] = f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"
            yield lineno + 1, lines, problems
            lineno += len(lines)
            continue
        lines = clean_chunk(text).split("\n")
        if lines[-1] == "":
            lines.pop()
        yield lineno + 1, lines, {}
        lineno += len(lines)


def clean_chunk(text):
    """clean() for many lines at once: the same result for each line, at C speed for typical text."""
    if text.isascii():
        odd_spaces = any(c in text for c in ASCII_ODD_SPACES)
    else:
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        if any(c in text for c in "\ufeff\u200b\u2060"):
            text = text.translate(INVISIBLE)
        odd_spaces = any(c in text for c in UNICODE_ODD_SPACES)  # 26 C-speed scans beat one regex scan
    if odd_spaces or "  " in text:
        text = SPACE_RUN.sub(" ", text)
    return text


def read_blocks(stream):
    block = None
    blanks = 0
    for first, lines, problems in read_chunks(stream):
        for lineno, text in enumerate(lines, first):
            if problems and lineno in problems:
                if block is None:
                    block = Block(lineno, [], blanks)
                block.errors.append((lineno, problems[lineno]))
                continue
            text = text.strip(" ")
            if not text:
                if block is not None:
                    yield block
                    block = None
                    blanks = 0
                blanks += 1
            elif block is None:
                block = Block(lineno, [text], blanks)
            else:
                block.lines.append(text)
    if block is not None:
        yield block


class Lookahead:
    """An iterator that can peek a couple of items ahead."""

    def __init__(self, iterable):
        self._it = iter(iterable)
        self._buffer = deque()

    def peek(self, n=0):
        buffer = self._buffer
        while len(buffer) <= n:
            item = next(self._it, None)
            if item is None:
                return None
            buffer.append(item)
        return buffer[n]

    def pop(self):
        return self._buffer.popleft() if self._buffer or self.peek() is not None else None


def _same(a, b):
    return a.casefold() == b.casefold()


def _starts_story(blocks):
    """Does the next block open a story? A headline followed by its caption block ending in TT,
    a one-block header (headline, caption, TT), or a headline given twice after a story break."""
    first = blocks.peek()
    if first is None or not first.lines:
        return False
    if len(first.lines) > 1:
        return first.lines[-1] == MARKER
    second = blocks.peek(1)
    if second is None or not second.lines:
        return False
    if second.lines[-1] == MARKER:
        return True
    return (
        len(second.lines) == 1
        and (first.blanks_before >= 2 or first.blanks_before == first.line - 1)
        and _same(second.lines[0], first.lines[0])
    )


def parse(stream, source):
    """Yield a StoryRecord or a DumpError for each story in a binary stream."""
    try:
        yield from _parse(Lookahead(read_blocks(stream)), source)
    except FileError as exc:
        yield DumpError(source, exc.line, exc.message)


def _parse(blocks, source):
    seen_any = False
    while blocks.peek() is not None:
        if not _starts_story(blocks):
            stray = blocks.pop()
            yield DumpError(
                source,
                stray.line,
                f"expected a story header (headline, caption, 'TT') but found {_quote(stray.text)}",
            )
            # Resynchronise at the next story header.
            while blocks.peek() is not None and not _starts_story(blocks):
                blocks.pop()
            seen_any = True
            continue
        seen_any = True
        yield _parse_story(blocks, source)
    if not seen_any:
        yield DumpError(source, 1, "empty file: no stories found")


def _parse_story(blocks, source):
    first = blocks.pop()
    start = first.line
    headline = first.lines[0]
    errors = list(first.errors)
    captions = []

    def fail(line, message):
        _skip_body(blocks)
        return DumpError(source, line, message, headline=headline)

    if len(headline) > HEADLINE_MAX:
        return fail(start, f"headline longer than {HEADLINE_MAX} characters ({len(headline):,}); is it a paragraph?")
    if first.lines[-1] == MARKER:
        caption_lines, caption_line = first.lines[1:-1], first.line + 1
    else:
        second = blocks.pop()
        errors += second.errors
        if second.lines[-1] == MARKER:
            caption_lines, caption_line = second.lines[:-1], second.line
        else:
            # No photo: the "header" was the headline alone, given twice.
            caption_lines, caption_line = None, second.line
    if caption_lines is not None:
        if not caption_lines:
            return fail(caption_line, "'TT' marker with no photo caption before it")
        if any(not _same(line, caption_lines[0]) for line in caption_lines[1:]):
            return fail(caption_line + 1, "the caption's two copies differ")
        captions = [split_credit(caption_lines[0])]
        if len(captions[0].credit) > CREDIT_MAX:
            return fail(caption_line, f"photo credit longer than {CREDIT_MAX} characters ({len(captions[0].credit):,})")
        repeat = blocks.pop()
        if repeat is None:
            return fail(start, "story has a header but no body")
        errors += repeat.errors
        if not _same(repeat.lines[0] if repeat.lines else "", headline):
            return fail(
                repeat.line,
                f"repeated headline {_quote(repeat.text)} does not match the headline on line {start}",
            )
        repeated_captions = repeat.lines[1:]
        if not repeated_captions:
            peek = blocks.peek()
            # The repeated caption is its own block; it matches the first copy of the caption.
            if peek is not None and peek.lines and _same(peek.lines[0], caption_lines[0]):
                block = blocks.pop()
                errors += block.errors
                repeated_captions = block.lines
            elif peek is not None and peek.lines and _looks_like_caption(peek.lines[0]) and peek.blanks_before < 2:
                return fail(peek.line, f"repeated caption does not match the caption on line {caption_line}")
        if any(not _same(line, caption_lines[0]) for line in repeated_captions):
            return fail(repeat.line + 1, f"repeated caption does not match the caption on line {caption_line}")

    paragraphs = []
    # Two or more blank lines end a story; whatever follows must be a new header.
    while (block := blocks.peek()) is not None:
        if (paragraphs and block.blanks_before >= 2) or _starts_story(blocks):
            break
        blocks.pop()
        errors += block.errors
        paragraphs.append(" ".join(block.lines))
    if errors:
        line, problem = errors[0]
        return DumpError(source, line, problem, headline=headline)
    if not paragraphs:
        return DumpError(source, start, "story has a header but no body", headline=headline)
    return StoryRecord(
        headline=headline,
        captions=captions,
        paragraphs=paragraphs,
        source=source,
        line=start,
        language=detect_language(headline, paragraphs),
    )


def _skip_body(blocks):
    while blocks.peek() is not None and not _starts_story(blocks):
        blocks.pop()


def _looks_like_caption(text):
    return bool(CREDIT.match(text))


def _quote(text, limit=60):
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
