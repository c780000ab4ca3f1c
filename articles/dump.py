"""Parse wire dumps into plain story records. No ORM here: see docs/dump-format.md for the grammar.

The parser streams: it holds one story at a time, so memory stays flat however large the dump, and
`Limits` bound what that can be: a line, a story, the whole dump (decompressed). Runs of blank lines are
skipped a chunk at a time, never line by line. It never raises on bad input; it yields a DumpError in
place of the story it could not read and carries on at the next story, so the importer decides whether
one bad story stops the run.
"""

import codecs
import re
import unicodedata
import zlib
from collections import deque
from dataclasses import dataclass, field

from .text import clean_text, detect_language, unify_line_breaks

CHUNK_BYTES = 1 << 20
KB = 1000
MB = 1000 * 1000
HEAD = 200  # characters kept of a line too long to read, to say which it was
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
class Limits:
    """How much text the parser will hold or read, in bytes of UTF-8: one line, one story (headline,
    captions and paragraphs), and the whole dump once decompressed. The defaults here are the settings'
    (IMPORT_MAX_LINE_KB, IMPORT_MAX_STORY_KB, IMPORT_MAX_DUMP_MB), far above real wire copy; a story
    also stays well under PostgreSQL's 1 MB limit on a tsvector (docs/dump-format.md)."""

    line: int = 64 * KB
    story: int = 256 * KB
    dump: int = 256 * MB


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
    fatal: bool = False  # the rest of the file cannot be read: --skip-invalid does not go on past it

    def __str__(self):
        return f"{self.source}:{self.line}: {self.message}"


@dataclass(slots=True)
class Block:
    """A run of non-blank lines, with the number of blank lines before it."""

    line: int
    lines: list[str]
    blanks_before: int
    errors: list[tuple[int, str]] = field(default_factory=list)
    size: int = 0  # bytes of UTF-8
    oversize: bool = False  # longer than a story may be: only its first line is kept

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
    def __init__(self, line, message, fatal=False):
        super().__init__(message)
        self.line = line
        self.message = message
        self.fatal = fatal


class StoryTooLarge(Exception):
    def __init__(self, line, headline=""):
        super().__init__(line)
        self.line = line
        self.headline = headline


NEWLINE_RUN_TEXT = b"\n" * 64
NEWLINE_RUN = re.compile(rb"\n{64,}")


def read_chunks(stream, limits=Limits()):
    """Yield (number of the first line, cleaned lines, {line number: problem}) from a binary stream.

    Reads about a megabyte at a time and does the byte-level work (line endings, decoding, spacing) on
    the whole chunk, which is many times faster than line by line; a chunk that is not valid UTF-8 is
    re-read line by line to say exactly where. Consecutive batches need not be consecutive lines: a run
    of blank lines is passed on as one blank line, and the next batch starts after it. A line longer
    than the limit is passed on as its first characters, with a problem, and the rest of it is read and
    dropped; more bytes than the dump limit end the file.
    """
    lineno = 0  # lines passed on (or skipped) so far
    total = 0  # bytes read
    carry = b""  # the start of a line that the last read cut
    at_start, drop_lf = True, False

    def read():
        nonlocal total
        try:
            data = stream.read(CHUNK_BYTES)
        except (OSError, EOFError, zlib.error) as exc:
            raise FileError(lineno + 1, f"cannot read the file: {exc}") from None
        total += len(data)
        if total > limits.dump:
            raise FileError(
                lineno + 1, f"dump larger than the {limits.dump // MB:,} MB limit (decompressed); split it", fatal=True
            )
        return data

    while True:
        data = read()
        if at_start and data:
            if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                raise FileError(1, "file is UTF-16 encoded; save it as UTF-8")
            data = data.removeprefix(codecs.BOM_UTF8)
            at_start = False
        if drop_lf:  # the \n of a \r\n that ended a line too long to keep
            data = data.removeprefix(b"\n")
            drop_lf = False
        if not data:
            if carry:
                lineno = yield from _lines(carry, lineno, limits)
            return
        chunk = carry + data if carry else data
        # Lines end at \n or \r; a \r at the very end may be the first half of a \r\n.
        end = max(chunk.rfind(b"\n"), chunk.rfind(b"\r", 0, len(chunk) - 1)) + 1
        piece, carry = chunk[:end], chunk[end:]
        if piece:
            lineno = yield from _lines(piece, lineno, limits)
        if len(carry) > limits.line:
            # A line with no end in sight: keep its start, then read on to its end without holding it.
            head = clean(carry[: HEAD * 4].decode("utf-8", "ignore"))[:HEAD]
            carry = b""
            while data := read():
                ends = [i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0]
                if ends:
                    cut = min(ends)
                    drop_lf = data[cut : cut + 1] == b"\r" and cut + 1 == len(data)
                    carry = data[cut + 1 + (data[cut : cut + 2] == b"\r\n") :]
                    break
            lineno += 1
            yield lineno, [head], {lineno: f"line longer than the {limits.line // KB:,} KB limit"}


def _lines(piece, lineno, limits):
    """Pass on the complete lines of a piece of a dump, after line `lineno`; return the last line's number."""
    piece = unify_line_breaks(piece)  # \r\n and \r end lines
    if (nul := piece.find(b"\x00")) >= 0:
        raise FileError(lineno + piece.count(b"\n", 0, nul) + 1, "binary data (NUL byte); not a text dump")
    if not piece.strip():  # only blank lines: count them, all at once
        yield lineno + 1, [""], {}
        return lineno + piece.count(b"\n") + (not piece.endswith(b"\n"))
    piece = clean_text(piece)  # no control characters (articles/text.py); after the blank runs: a bomb's speed
    if NEWLINE_RUN_TEXT not in piece:
        return (yield from _decoded(piece, lineno, limits))
    start = 0
    for run in NEWLINE_RUN.finditer(piece):
        # The text before the run, the run's first blank line; the rest of the run is only counted.
        lineno = yield from _decoded(piece[start : run.start() + 2], lineno, limits)
        lineno += run.end() - run.start() - 2
        start = run.end()
    return (yield from _decoded(piece[start:], lineno, limits))


def _decoded(piece, lineno, limits):
    if not piece:
        return lineno
    try:
        lines, problems = clean_chunk(piece.decode("utf-8")).split("\n"), {}
    except UnicodeDecodeError:
        lines, problems = [], {}
        for number, raw in enumerate(piece.split(b"\n"), lineno + 1):
            try:
                lines.append(clean(raw.decode("utf-8")))
            except UnicodeDecodeError as exc:
                lines.append("")
                problems[number] = f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"
    if lines[-1] == "":
        lines.pop()
    if len(piece) > limits.line and max(map(len, lines)) * 4 > limits.line:  # 4: the most bytes a character takes
        for index, line in enumerate(lines):
            if len(line) * 4 > limits.line and len(line.encode()) > limits.line:
                lines[index] = line[:HEAD]
                problems[lineno + 1 + index] = f"line longer than the {limits.line // KB:,} KB limit"
    yield lineno + 1, lines, problems
    return lineno + len(lines)


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


def read_blocks(stream, limits=Limits()):
    """Yield the blocks of a dump. A block that grows past the story limit is passed on at once, marked
    oversize with its first line only, and the rest of it is read and dropped."""
    block = None
    last = 0  # the last line that belonged to a block: the blank lines before a block are counted from it
    dropping = False
    story_limit = limits.story
    for first, lines, problems in read_chunks(stream, limits):
        for lineno, text in enumerate(lines, first):
            problem = problems.get(lineno) if problems else None
            text = text.strip(" ")
            if not text and problem is None:
                if block is not None:
                    yield block
                    block = None
                dropping = False
                continue
            last_before, last = last, lineno
            if dropping:
                continue
            if block is None:
                block = Block(lineno, [], lineno - last_before - 1)
            if problem:
                block.errors.append((lineno, problem))
            if text:
                block.lines.append(text)
                block.size += len(text) if text.isascii() else len(text.encode())
                if block.size > story_limit:
                    block.oversize = True
                    del block.lines[1:]
                    yield block
                    block, dropping = None, True
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
    if first.oversize:  # whatever it is, it is refused as a story too large, without reading further
        return True
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


def parse(stream, source, limits=Limits()):
    """Yield a StoryRecord or a DumpError for each story in a binary stream."""
    try:
        yield from _parse(Lookahead(read_blocks(stream, limits)), source, limits)
    except FileError as exc:
        yield DumpError(source, exc.line, exc.message, fatal=exc.fatal)


def _parse(blocks, source, limits):
    seen_any = False
    while blocks.peek() is not None:
        if not _starts_story(blocks):
            stray = blocks.pop()
            if stray.errors:  # a line that could not be read says more than where it is
                yield DumpError(source, *stray.errors[0])
            else:
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
        try:
            story = _parse_story(blocks, source, limits)
        except StoryTooLarge as exc:
            # Said at once, before the rest of the story is read (and dropped): a run that stops at the
            # first bad story stops here, not at the end of a gigabyte.
            yield DumpError(
                source, exc.line, f"story longer than the {limits.story // KB:,} KB limit", headline=exc.headline
            )
            _skip_body(blocks)
            continue
        yield story
    if not seen_any:
        yield DumpError(source, 1, "empty file: no stories found")


def _parse_story(blocks, source, limits):
    first = blocks.pop()
    start = first.line
    headline = first.lines[0] if first.lines else ""
    if first.oversize:
        raise StoryTooLarge(start, headline)
    size = first.size
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
        second = _take(blocks, start, headline)
        size += second.size
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
        repeat = _take(blocks, start, headline)
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
                block = _take(blocks, start, headline)
                errors += block.errors
                repeated_captions = block.lines
            elif peek is not None and peek.lines and _looks_like_caption(peek.lines[0]) and peek.blanks_before < 2:
                return fail(peek.line, f"repeated caption does not match the caption on line {caption_line}")
        if any(not _same(line, caption_lines[0]) for line in repeated_captions):
            return fail(repeat.line + 1, f"repeated caption does not match the caption on line {caption_line}")

    paragraphs = []
    # Two or more blank lines end a story; whatever follows must be a new header.
    while (block := blocks.peek()) is not None:
        if paragraphs and block.blanks_before >= 2:
            break
        if block.oversize:  # not a story of its own: this story's paragraph, too long
            raise StoryTooLarge(start, headline)
        if _starts_story(blocks):
            break
        blocks.pop()
        size += block.size
        if size > limits.story:
            raise StoryTooLarge(start, headline)
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


def _take(blocks, start, headline):
    """The next block of the story starting on line `start`; a story too large if it is oversize."""
    block = blocks.pop()
    if block is not None and block.oversize:
        raise StoryTooLarge(start, headline)
    return block


def _skip_body(blocks):
    while blocks.peek() is not None and not _starts_story(blocks):
        blocks.pop()


def _looks_like_caption(text):
    return bool(CREDIT.match(text))


def _quote(text, limit=60):
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
