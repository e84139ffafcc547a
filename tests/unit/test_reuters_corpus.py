"""Every Reuters wire clipping gives one entry with its headline and its timestamp."""

from __future__ import annotations

import csv
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feeds.config import DEFAULT_CONFIG
from feeds.model import Document
from feeds.normalize import split_entries

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "reuters"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.skipif(not (CORPUS / "labels.tsv").is_file(), reason=f"no Reuters corpus at {CORPUS}")
def test_every_wire_clipping_gives_its_headline_and_timestamp(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with open(CORPUS / "labels.tsv", encoding="utf-8", newline="") as f:
        labels = list(csv.DictReader(f, delimiter="\t"))
    failures: list[str] = []
    times: list[float] = []
    for row in labels:
        path = CORPUS / "docs" / row["file"]
        text = path.read_text(encoding="utf-8")
        document = Document(
            rel_path=Path(row["file"]),
            text=text,
            content_hash="",
            encoding="utf-8",
            size=len(text),
            mtime_ns=0,
            inode=0,
        )
        started = time.perf_counter()
        entries = split_entries(document, config=DEFAULT_CONFIG, now=NOW)
        times.append(time.perf_counter() - started)
        expected = datetime.fromisoformat(row["date_iso"].replace("Z", "+00:00"))
        title = text.split("\n", 1)[0]
        if len(entries) != 1:
            failures.append(f"{row['file']}: {len(entries)} entries")
        elif entries[0].title != title or entries[0].published != expected:
            failures.append(f"{row['file']}: {entries[0].title!r} {entries[0].published}")
    times.sort()
    passed = len(labels) - len(failures)
    with capsys.disabled():
        print(
            f"\nreuters corpus: {passed}/{len(labels)} docs pass; "
            f"median split_entries {times[len(times) // 2] * 1e6:.0f} us per file"
        )
    assert not failures, f"{len(failures)} failures, first: {failures[:10]}"
