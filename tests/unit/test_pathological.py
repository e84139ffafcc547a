"""Reading a pathological file stays within a small multiple of its size, and ends.

Each shape of `bench.pathological` is written by code into a temp folder and read the way a
dropped file is (`feeds.build.read_files`: ingest, normalize, topics) in a fresh Python
process with the shipped `seedfeed.toml`; its peak RSS over its base (the same process after
reading one ordinary story) must stay within MEMORY_FACTOR times the file's size.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.pathological import MB, SHAPES, Shape, measure_reading, write_shape

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "seedfeed.toml"
SIZE = 2 * MB
MEMORY_FACTOR = 10
DEADLINE_S = 120.0  # a generous bound for "it ends", on a loaded 2-core machine

# Shapes that still take more than MEMORY_FACTOR times their size: the factor they are held
# to for now, and why (see docs/benchmarks.md).
_OVER = {
    # Text with one character outside the BMP is held at 4 bytes a character: the text, the
    # body and the content alone are 12 times the file.
    "astral": 30,
    # Automatic-topic candidates keep a dict and a slug per distinct name (feeds/topics.py).
    "capitalised-words": 16,
    # A non-Latin script saved one byte a character is held at two.
    "cp1251": 24,
    # 15,000 stories of 250 bytes: the objects of each entry outweigh its text.
    "headered-stories": 12,
}
# Shapes refused up front, with the reason their reading would exceed the bound.
_REFUSED = {"short-lines", "blank-lines", "repeated-headline"}


@pytest.mark.parametrize("shape", SHAPES, ids=[shape.name for shape in SHAPES])
def test_reading_a_pathological_file_stays_within_ten_times_its_size(
    shape: Shape, tmp_path: Path
) -> None:
    path = tmp_path / f"{shape.name}.txt"
    write_shape(shape, path, SIZE)
    cost = measure_reading(path, config=CONFIG, timeout=DEADLINE_S)
    if shape.name in _REFUSED:
        assert cost.reason is not None and cost.reason.startswith("too many short lines")
    else:
        assert cost.entries or cost.reason
    factor = _OVER.get(shape.name, MEMORY_FACTOR)
    assert cost.over_base_kb * 1024 <= factor * path.stat().st_size, cost


@pytest.mark.parametrize("name", ["dashes", "capitalised-lines"])
def test_a_nine_megabyte_file_is_read_in_under_150_mb(name: str, tmp_path: Path) -> None:
    """The figures of issue 19: 1,389 and 939 MB at the start."""
    (shape,) = [s for s in SHAPES if s.name == name]
    path = tmp_path / f"{name}.txt"
    write_shape(shape, path, 9 * MB)
    cost = measure_reading(path, config=CONFIG, timeout=DEADLINE_S)
    assert cost.peak_kb <= 150 * 1024, cost


def test_the_peak_is_the_reading_s_own_whatever_process_starts_it(tmp_path: Path) -> None:
    """A child started by a large process (a pytest worker) used to report that process's
    memory as its own peak: every reading then looked as large as the worker."""
    (shape,) = [s for s in SHAPES if s.name == "dashes"]
    path = tmp_path / "dashes.txt"
    write_shape(shape, path, MB)
    ballast = bytearray(160 * MB)
    ballast[::4096] = b"\1" * len(ballast[::4096])  # resident, not just reserved
    cost = measure_reading(path, config=CONFIG, timeout=DEADLINE_S)
    del ballast
    assert cost.peak_kb <= 150 * 1024, cost
