"""One file's bytes -> Document: size check, encoding, line ends, NFC, XML-safe text, hash."""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import re
import stat
import unicodedata
from pathlib import Path

from charset_normalizer import from_bytes

from feeds.errors import RejectedFile
from feeds.model import Document

log = logging.getLogger(__name__)

# Characters XML 1.0 forbids (tab, LF and CR are allowed but CR is folded into LF first).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
# The same, of the ASCII bytes: deleted from ASCII text by bytes.translate, ~10x faster.
_XML_ILLEGAL_ASCII = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_BINARY_MAGIC: tuple[bytes, ...] = (
    b"%PDF",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ",
    b"7z\xbc\xaf",
    b"Rar!",
    b"\x7fELF",
)


def read_document(seeds_dir: Path, rel_path: Path, *, max_file_bytes: int) -> Document:
    """Read `seeds_dir / rel_path` into a Document, or raise RejectedFile saying why not."""
    try:
        with open(os.path.join(seeds_dir, rel_path), "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise RejectedFile(rel_path, "not a regular file")
            if info.st_size > max_file_bytes:
                raise RejectedFile(
                    rel_path,
                    f"larger than max_file_bytes ({info.st_size} > {max_file_bytes} bytes)",
                )
            # Asked for its size (not the limit: a read of n bytes allocates n first, ~30 µs
            # a file at the default limit); a file that grew meanwhile is read on.
            raw = f.read(info.st_size + 1)
            if len(raw) > info.st_size:
                raw += f.read(max_file_bytes + 1 - len(raw))
    except PermissionError as e:
        raise RejectedFile(rel_path, "not readable: permission denied") from e
    except IsADirectoryError as e:
        raise RejectedFile(rel_path, "not a regular file") from e
    if len(raw) > max_file_bytes:
        raise RejectedFile(rel_path, f"grew larger than max_file_bytes ({max_file_bytes} bytes)")
    text, encoding = decode_text(rel_path, raw)
    return Document(
        rel_path=rel_path,
        text=text,
        content_hash=hashlib.sha256(raw).hexdigest(),
        encoding=encoding,
        size=len(raw),
        mtime_ns=info.st_mtime_ns,
        inode=info.st_ino,
    )


def decode_text(rel_path: Path, raw: bytes) -> tuple[str, str]:
    """Decode a file's bytes to clean text (LF line ends, NFC, XML-safe) and name the encoding."""
    if not raw or raw.isspace():  # as `not raw.strip()`, without a copy of the file
        raise RejectedFile(rel_path, "empty or whitespace only")
    if raw.isascii() and b"\x00" not in raw and not raw.startswith(_BINARY_MAGIC):
        # Plain ASCII, most clippings: its own UTF-8 and NFC, cleaned as bytes.
        lines = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        text, encoding = lines.translate(None, _XML_ILLEGAL_ASCII).decode("ascii"), "utf-8"
    else:
        text, encoding = _decode(rel_path, raw)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        text = _XML_ILLEGAL.sub("", unicodedata.normalize("NFC", text))
    if not text or text.isspace():
        raise RejectedFile(rel_path, "no text after decoding")
    return text, encoding


def _decode(rel_path: Path, raw: bytes) -> tuple[str, str]:
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(codec), codec.removesuffix("-sig")
            except UnicodeDecodeError as e:
                raise RejectedFile(
                    rel_path, f"not valid {codec} despite its byte-order mark"
                ) from e
    if raw.startswith(_BINARY_MAGIC):
        raise RejectedFile(rel_path, "binary file (image, PDF, archive or program), not text")
    if b"\x00" in raw:
        utf16 = _utf16_without_bom(raw)
        if utf16 is None:
            raise RejectedFile(rel_path, "binary file (contains NUL bytes), not text")
        try:
            return raw.decode(utf16), utf16
        except UnicodeDecodeError as e:
            raise RejectedFile(rel_path, "binary file (contains NUL bytes), not text") from e
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    return _decode_legacy(rel_path, raw)


def _utf16_without_bom(raw: bytes) -> str | None:
    """UTF-16 text saved without a byte-order mark: NULs in every other byte of mostly ASCII."""
    if len(raw) < 4 or len(raw) % 2:
        return None
    even, odd = raw[0::2].count(0), raw[1::2].count(0)
    half = len(raw) // 2
    if odd >= 0.6 * half and even == 0:
        return "utf-16-le"
    if even >= 0.6 * half and odd == 0:
        return "utf-16-be"
    return None


def _decode_legacy(rel_path: Path, raw: bytes) -> tuple[str, str]:
    """Bytes that are not UTF-8: Windows-1252 (and Latin-1, its printable subset) when the
    text reads as Western, else charset-normalizer's guess (Cyrillic, Greek, ...)."""
    try:
        western: str | None = raw.decode("cp1252")
    except UnicodeDecodeError:
        western = None
    if western is not None and _reads_as_western(western):
        return western, "cp1252" if _C1_BYTES.search(raw) else "iso-8859-1"
    best = from_bytes(raw).best()
    if best is None or best.encoding is None:
        raise RejectedFile(rel_path, "not text in any supported encoding")
    encoding = _prefer_windows_1252(best.encoding)
    try:
        return raw.decode(encoding), encoding
    except UnicodeDecodeError as e:
        raise RejectedFile(rel_path, "not text in any supported encoding") from e


def _reads_as_western(text: str) -> bool:
    """Mostly ASCII letters with a few accented ones, as English, French or Spanish text is;
    Cyrillic or Greek bytes read as Windows-1252 give almost nothing but accented letters."""
    letters = sum(1 for c in text if c.isalpha())
    accented = sum(1 for c in text if c.isalpha() and not c.isascii())
    return accented <= 0.3 * letters


_C1_BYTES = re.compile(b"[\x80-\x9f]")


def _prefer_windows_1252(encoding: str) -> str:
    """Latin-1 guesses read as Windows-1252, its superset for the bytes people really save."""
    return "cp1252" if encoding.lower() in {"latin_1", "iso8859_1", "latin-1"} else encoding
