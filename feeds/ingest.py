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
    path = seeds_dir / rel_path
    try:
        with open(path, "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise RejectedFile(rel_path, "not a regular file")
            if info.st_size > max_file_bytes:
                raise RejectedFile(
                    rel_path, f"larger than max_file_bytes ({info.st_size} > {max_file_bytes} bytes)"
                )
            raw = f.read(max_file_bytes + 1)
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
    if not raw.strip():
        raise RejectedFile(rel_path, "empty or whitespace only")
    text, encoding = _decode(rel_path, raw)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _XML_ILLEGAL.sub("", unicodedata.normalize("NFC", text))
    if not text.strip():
        raise RejectedFile(rel_path, "no text after decoding")
    return text, encoding


def _decode(rel_path: Path, raw: bytes) -> tuple[str, str]:
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(codec), codec.removesuffix("-sig")
            except UnicodeDecodeError as e:
                raise RejectedFile(rel_path, f"not valid {codec} despite its byte-order mark") from e
    if raw.startswith(_BINARY_MAGIC):
        raise RejectedFile(rel_path, "binary file (image, PDF, archive or program), not text")
    if b"\x00" in raw:
        raise RejectedFile(rel_path, "binary file (contains NUL bytes), not text")
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(raw).best()
    if best is None or best.encoding is None:
        raise RejectedFile(rel_path, "not text in any supported encoding")
    encoding = _prefer_windows_1252(best.encoding)
    try:
        return raw.decode(encoding), encoding
    except UnicodeDecodeError as e:
        raise RejectedFile(rel_path, "not text in any supported encoding") from e


def _prefer_windows_1252(encoding: str) -> str:
    """Latin-1 guesses read as Windows-1252, its superset for the bytes people really save."""
    return "cp1252" if encoding.lower() in {"latin_1", "iso8859_1", "latin-1"} else encoding
