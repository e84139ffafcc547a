"""read_document: encodings, line ends, NFC, XML-safe text and the reasons files are refused."""

from __future__ import annotations

import codecs
import hashlib
from pathlib import Path

import pytest

from feeds.errors import RejectedFile
from feeds.ingest import read_document

TEXT = "Pakistan’s “counterterrorism” body — café, naïve; 北海道; Новосибирск\n"
LIMIT = 1024 * 1024


def _read(tmp_path: Path, raw: bytes, name: str = "clip.txt") -> tuple[str, str]:
    (tmp_path / name).write_bytes(raw)
    document = read_document(tmp_path, Path(name), max_file_bytes=LIMIT)
    assert document.rel_path == Path(name)
    assert document.size == len(raw)
    assert document.content_hash == hashlib.sha256(raw).hexdigest()
    return document.text, document.encoding


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16"),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16"),
        (TEXT.encode("utf-16-le"), "utf-16-le"),
    ],
)
def test_unicode_encodings_keep_quotes_and_scripts(
    tmp_path: Path, raw: bytes, encoding: str
) -> None:
    assert _read(tmp_path, raw) == (TEXT, encoding)


def test_windows_1252_is_detected(tmp_path: Path) -> None:
    text = "Mexico’s peso firms – “strong” remittances…\n"
    assert _read(tmp_path, text.encode("cp1252")) == (text, "cp1252")


def test_latin_1_is_detected(tmp_path: Path) -> None:
    text = "Café à São Paulo: señor Müller déclare que l'été sera chaud.\n"
    assert _read(tmp_path, text.encode("latin-1")) == (text, "iso-8859-1")


def test_cyrillic_code_page_is_not_read_as_western(tmp_path: Path) -> None:
    text = "В Новосибирске открыли новый мост через Обь, сообщила мэрия города.\n"
    got, encoding = _read(tmp_path, text.encode("cp1251"))
    assert got == text
    assert encoding == "cp1251"


@pytest.mark.parametrize("ending", ["\r\n", "\r"])
def test_line_ends_become_newlines(tmp_path: Path, ending: str) -> None:
    raw = ending.join(["Headline", "", "Body line one", "line two"]).encode()
    assert _read(tmp_path, raw)[0] == "Headline\n\nBody line one\nline two"


def test_text_is_nfc(tmp_path: Path) -> None:
    assert _read(tmp_path, "Cafe\u0301 São".encode())[0] == "Caf\u00e9 São"


@pytest.mark.parametrize("accent", ["", "é"])
def test_xml_illegal_characters_are_removed(tmp_path: Path, accent: str) -> None:
    """ASCII text (cleaned as bytes) and other text are cleaned alike: line ends are folded
    first, so a forbidden character between CR and LF leaves two line ends."""
    raw = f"Bell\x07 escape\x1b form\x0c feed\ttab\r\x01\ndel\x7f{accent}\n".encode()
    got, encoding = _read(tmp_path, raw)
    assert got == f"Bell escape form feed\ttab\n\ndel{accent}\n"
    assert encoding == "utf-8"


def test_missing_final_newline_is_kept_as_is(tmp_path: Path) -> None:
    assert _read(tmp_path, b"Headline\n\nLast line")[0] == "Headline\n\nLast line"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (b" \n\t\n", "empty"),
        (b"%PDF-1.7\n...", "binary"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
        (b"text\x00with\x00\x00\x01nul", "binary"),
        (codecs.BOM_UTF8 + b"\xff\xfe broken", "byte-order mark"),
    ],
)
def test_unusable_files_are_rejected_with_a_reason(tmp_path: Path, raw: bytes, reason: str) -> None:
    with pytest.raises(RejectedFile) as info:
        _read(tmp_path, raw)
    assert reason in info.value.reason
    assert info.value.rel_path == Path("clip.txt")


def test_file_over_the_size_limit_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_bytes(b"x" * 2048)
    with pytest.raises(RejectedFile) as info:
        read_document(tmp_path, Path("big.txt"), max_file_bytes=1024)
    assert "max_file_bytes" in info.value.reason


def test_a_directory_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "folder.txt").mkdir()
    with pytest.raises(RejectedFile) as info:
        read_document(tmp_path, Path("folder.txt"), max_file_bytes=LIMIT)
    assert "regular file" in info.value.reason
