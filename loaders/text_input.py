"""How a drop's file is read as text, decided before any parse, and the file's physical records.

``prepare_text`` decides the encoding (UTF-8, UTF-8 with a byte-order mark, UTF-16 with or without
a byte-order mark, Windows-1252), the line endings (LF, CRLF, CR-only, mixed) and the delimiter
(``,`` ``;`` or tab, from the header row). A file that is not UTF-8, has CR line breaks, mixes
CRLF with LF or has another delimiter is rewritten once as UTF-8, LF, comma-separated into the
load's scratch folder, and each decision is returned as a warning (code, detail, occurrences) for
``audit.file_warnings``. A file it cannot decide is refused with the reason. This is the one place
where line endings are handled: the CSV readers get one line-ending style.

``read_header`` reads the header row of a prepared file.

``count_records`` counts a file's records from its bytes alone (line breaks outside quotes), so
the CSV parser's count can be checked against it; a line inside a quoted value that has a whole
record's worth of delimiters is a *swallowed* record (an unterminated quote ran over it).
"""

from __future__ import annotations

import codecs
import csv
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from loaders.raw_tables import unique_suffix

HEADER_LIMIT = 1 << 20  # a header row longer than this has no line break: not a CSV file
CHUNK = 1 << 22
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}


class FileRefused(Exception):
    """The file as a whole cannot be parsed or placed; the message says why."""


class TextRefused(FileRefused):
    """The file cannot be read as delimited text; the message says why."""


@dataclass
class PreparedText:
    path: Path  # UTF-8 (BOM allowed), comma-separated; LF or CRLF line breaks, not both
    notes: list[tuple[str, str, int]] = field(default_factory=list)  # (warning code, detail, occurrences)


@dataclass(frozen=True)
class LineBreaks:
    """Line breaks of a file by kind (a CR not followed by LF is a lone CR)."""

    crlf: int = 0
    lone_lf: int = 0
    lone_cr: int = 0

    @property
    def mixed(self) -> bool:
        """CRLF and LF both present (and no lone CR, which is rewritten anyway)."""
        return bool(self.crlf and self.lone_lf and not self.lone_cr)


def _sniff_bom(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if len(head) >= 4 and head[1] == 0 and head[3] == 0 and head[0] and head[2]:
        return "utf-16-le"
    if len(head) >= 4 and head[0] == 0 and head[2] == 0 and head[1] and head[3]:
        return "utf-16-be"
    return None


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        yield from iter(lambda: handle.read(CHUNK), b"")


def _scan_utf8(path: Path) -> tuple[bool, LineBreaks]:
    """One pass: whether the bytes are valid UTF-8, and the file's line breaks by kind."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    valid = True
    crs = pairs = lfs = 0
    tail = b""  # a CR ending the previous chunk
    for chunk in _chunks(path):
        if valid and not chunk.isascii():
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                valid = False
        lfs += chunk.count(b"\n")
        if tail or b"\r" in chunk:  # most files have no CR at all: one memchr per chunk
            data = tail + chunk
            crs += data.count(b"\r") - len(tail)
            pairs += data.count(b"\r\n")
            tail = data[-1:] if data.endswith(b"\r") else b""
    if valid:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            valid = False
    return valid, LineBreaks(pairs, lfs - pairs, crs - pairs)


def _has_utf8_sequences(path: Path) -> bool:
    """True when the file holds at least one valid multi-byte UTF-8 character."""
    for chunk in _chunks(path):
        if not chunk.isascii():
            text = chunk.decode("utf-8", errors="surrogateescape")
            if any(ord(c) > 0x7F and not 0xDC80 <= ord(c) <= 0xDCFF for c in text):
                return True
    return False


def detect_encoding(path: Path) -> tuple[str, str | None, LineBreaks]:
    """(Python codec, note, line breaks): the note explains any choice other than plain UTF-8;
    the line breaks are counted for UTF-8 files (other encodings are always rewritten)."""
    with path.open("rb") as handle:
        head = handle.read(4)
    bom = _sniff_bom(head)
    if bom is not None and bom != "utf-8-sig":
        return bom, f"read as UTF-16 ({'byte-order mark' if bom == 'utf-16' else 'no byte-order mark'})", LineBreaks()
    valid, breaks = _scan_utf8(path)
    if valid or bom == "utf-8-sig" or _has_utf8_sequences(path):
        return bom or "utf-8", None, breaks  # damaged UTF-8: its bad rows are quarantined by the parser
    try:
        for chunk in _chunks(path):
            chunk.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise TextRefused(f"not UTF-8, UTF-16 or Windows-1252 text (byte 0x{exc.object[exc.start]:02x})") from exc
    return "cp1252", "read as Windows-1252: not valid UTF-8 and no UTF-8 multi-byte character", LineBreaks()


def _header_text(path: Path, encoding: str) -> str:
    with path.open("rb") as handle:
        head = handle.read(HEADER_LIMIT + 4)
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    for position, char in enumerate(text):
        if char in "\r\n":
            return text[:position]
    if len(head) > HEADER_LIMIT:
        raise TextRefused(f"no line break in the first {HEADER_LIMIT:,} bytes: not a CSV file")
    return text


def detect_delimiter(header: str) -> str:
    """The delimiter of a header row: the most frequent of , ; tab outside quotes; a tie refuses."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    (best, most), (second, next_most) = ranked[0], ranked[1]
    if most == 0:
        return ","  # one column
    if most == next_most:
        raise TextRefused(
            f"delimiter unclear: the header has {most} {DELIMITERS[best]}(s) and {next_most} {DELIMITERS[second]}(s)"
        )
    return best


def _rewrite(path: Path, encoding: str, target: Path) -> None:
    """Write as UTF-8 with every CRLF and lone CR turned into LF (UTF-8 input byte for byte, so
    the rows of a damaged UTF-8 file stay as they are for the parser to quarantine)."""
    utf8 = encoding.startswith("utf-8")
    decoder = None if utf8 else codecs.getincrementaldecoder(encoding)("strict")
    empty = b"" if utf8 else ""
    with target.open("wb") as sink:
        carry = empty
        for chunk in _chunks(path):
            text = carry + (chunk if decoder is None else decoder.decode(chunk))
            cr, crlf, lf = (b"\r", b"\r\n", b"\n") if utf8 else ("\r", "\r\n", "\n")
            carry = cr if text.endswith(cr) else empty
            text = (text[:-1] if carry else text).replace(crlf, lf).replace(cr, lf)
            sink.write(text if utf8 else text.encode("utf-8"))
        rest = carry + (empty if decoder is None else decoder.decode(b"", final=True))
        rest = rest.replace(b"\r" if utf8 else "\r", b"\n" if utf8 else "\n")
        sink.write(rest if utf8 else rest.encode("utf-8"))


def _redelimit(path: Path, delimiter: str, target: Path) -> None:
    with path.open(encoding="utf-8", newline="") as source, target.open("w", encoding="utf-8", newline="") as sink:
        reader = csv.reader(source, delimiter=delimiter, strict=True)
        writer = csv.writer(sink, lineterminator="\n")
        try:
            for row in reader:
                writer.writerow(row)
        except csv.Error as exc:
            raise TextRefused(
                f"cannot be read as {DELIMITERS[delimiter]}-separated: line {reader.line_num}: {exc}"
            ) from exc
        except UnicodeDecodeError as exc:
            raise TextRefused(
                f"a {DELIMITERS[delimiter]}-separated file must be valid text to convert: invalid UTF-8 after "
                f"line {reader.line_num}"
            ) from exc


def prepare_text(path: Path, scratch: Path) -> PreparedText:
    """A path the CSV readers can read (UTF-8, comma), rewritten into ``scratch`` when needed."""
    try:
        encoding, note, breaks = detect_encoding(path)
        delimiter = detect_delimiter(_header_text(path, encoding))
    except (OSError, UnicodeDecodeError) as exc:
        raise TextRefused(f"cannot be read: {exc}") from exc
    prepared = PreparedText(path)
    if encoding == "utf-8-sig":
        prepared.notes.append(("byte_order_mark", "file starts with a UTF-8 byte-order mark", 1))
    if note:
        prepared.notes.append(("encoding", note, 1))
    if breaks.lone_cr:
        prepared.notes.append(("line_endings", "CR (carriage return) line breaks read as line ends", 1))
    if delimiter != ",":
        prepared.notes.append(("delimiter", f"fields separated by {DELIMITERS[delimiter]}s; read as such", 1))
    elif breaks.mixed and not note:  # the only reason to rewrite: one line-ending style for the readers
        detail = f"{breaks.crlf:,} CRLF and {breaks.lone_lf:,} LF line endings"
        prepared.notes.append(("mixed_line_endings", detail, breaks.crlf + breaks.lone_lf))
    if not (note or breaks.lone_cr or breaks.mixed or delimiter != ","):
        return prepared
    number = unique_suffix()
    text = scratch / f"text-{number}-{path.name}"
    try:
        _rewrite(path, encoding, text)
    except UnicodeDecodeError as exc:
        raise TextRefused(f"not valid {encoding} text at byte {exc.start} of a block") from exc
    if delimiter != ",":
        comma = scratch / f"comma-{number}-{path.name}"
        _redelimit(text, delimiter, comma)
        text.unlink()
        text = comma
    prepared.path = text
    return prepared


def read_header(path: Path) -> list[str]:
    """The header row of a prepared file, BOM stripped. Refuses empty files and non-UTF-8 headers."""
    with path.open("rb") as handle:
        first = handle.readline(HEADER_LIMIT)
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRefused(f"header row is not valid UTF-8 (byte {exc.start})") from exc
    if not text.strip():
        raise FileRefused("file is empty: no header row")
    try:
        return next(csv.reader([text.rstrip("\r\n")]))
    except csv.Error as exc:
        raise FileRefused(f"header row cannot be read: {exc}") from exc


@dataclass
class RecordCount:
    """Records of a file by its bytes: line breaks outside quotes, blank lines not counted."""

    records: int = 0  # data records (header excluded)
    swallowed: list[tuple[int, str]] = field(default_factory=list)  # (line number, line) inside a quote


def count_records(path: Path, width: int) -> RecordCount:
    """Count the records of a UTF-8 comma-separated file without a CSV parser.

    A record ends at a line break outside quotes (quote parity). A line that starts inside a
    quoted value and holds at least ``width - 1`` commas (a whole record) is reported as
    swallowed - it will not be read as the record it looks like.
    """
    count = RecordCount()
    min_commas = max(2, width - 1)
    quoted = False  # inside quotes at the start of the pending bytes
    line_number = 0  # physical lines finished so far
    pending = b""
    records = 0  # record ends seen (header included), blank lines excluded
    for chunk in itertools.chain(_chunks(path), [b"\n"]):
        data = pending + chunk
        cut = data.rfind(b"\n") + 1
        pending, data = data[cut:], data[:cut]
        if not data:
            continue
        array = np.frombuffer(data, dtype=np.uint8)
        newlines = np.flatnonzero(array == 10)
        if not quoted and b'"' not in data:  # the common case: every line not blank is a record
            gaps = np.diff(newlines, prepend=-1)  # line length + 1
            blank = (gaps == 1) | ((gaps == 2) & (array[newlines - 1] == 13))
            records += len(newlines) - int(np.count_nonzero(blank))
            line_number += len(newlines)
            continue
        quotes = np.cumsum(array == 34, dtype=np.int64)
        # quote parity at each line break, and at the start of each line
        inside_at_break = ((quotes[newlines] + quoted) % 2).astype(bool)
        starts = np.concatenate(([0], newlines[:-1] + 1))
        inside_at_start = np.concatenate(([quoted], inside_at_break[:-1]))
        lengths = newlines - starts
        blank = ~inside_at_start & ((lengths == 0) | ((lengths == 1) & (array[np.maximum(newlines - 1, 0)] == 13)))
        records += int(np.count_nonzero(~inside_at_break & ~blank))
        if inside_at_start.any():
            commas = np.flatnonzero(array == 44)
            per_line = np.bincount(np.searchsorted(newlines, commas), minlength=len(newlines))
            for index in np.flatnonzero(inside_at_start & (per_line >= min_commas)):
                text = data[starts[index] : newlines[index]].decode("utf-8", errors="replace").rstrip("\r")
                count.swallowed.append((line_number + int(index) + 1, text))
        line_number += len(newlines)
        quoted = bool(inside_at_break[-1])
    if quoted:
        records += 1  # a record still open at the end of the file (an unterminated quote)
    count.records = max(records - 1, 0)
    return count
