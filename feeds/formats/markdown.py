"""Markdown files (`.md`) with optional YAML front matter, rendered with markdown-it-py."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from feeds.formats import Block, BlockKind, Parsed, Role, dateline_place, title_from_prose
from feeds.formats.roles import Reading, read_roles

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

NAME = "markdown"

_BLOCK_KINDS: dict[str, BlockKind] = {
    "paragraph_open": "p",
    "heading_open": "h",
}


def detect(lines: Sequence[str], suffix: str) -> bool:
    """Files named `.md` or `.markdown`."""
    return suffix.lower() in (".md", ".markdown")


def parse(lines: Sequence[str]) -> Parsed:
    """Front matter fields, the body as HTML and as plain blocks; title from it or the first `#`.

    The blocks under the title are read by their roles, as plain-text stories are: a date
    line or a byline under the heading dates and signs the note, and captions, furniture
    and trailers leave its text.
    """
    meta, body = _front_matter(lines)
    md = _markdown()
    tokens = md.parse("\n".join(body))
    title = _text(meta.get("title")) or _text(meta.get("headline"))
    above = len(lines) - len(body)  # the front matter's lines
    roles: list[Role] = [
        "blank" if not line.strip() else "header" if k < above else "furniture"
        for k, line in enumerate(lines)
    ]
    if len(tokens) > 2 and tokens[0].tag == "h1":
        heading = " ".join(tokens[1].content.split())
        if title is None or heading.lower() == title.lower():
            # The note's heading is its title, or repeats the title its front matter gives.
            title = title or heading or None
            _mark(roles, tokens[0], above, "headline")
            tokens = tokens[3:]
    tokens, reading = _read_roles(tokens, title, roles, above)
    blocks = _blocks(tokens)
    description = _text(meta.get("description", meta.get("summary")))
    if description and blocks:
        blocks = (Block(kind="standfirst", lines=(description,)), *blocks)
    if title is None:
        first = next((b for b in blocks if b.kind in ("h", "p")), None)
        if first is not None:
            title = first.lines[0] if first.kind == "h" else title_from_prose(first.lines[0])
    date = meta.get("date", meta.get("published"))
    dates = (_date_text(date),) if date is not None else reading.dates
    topics = meta.get("tags", meta.get("topics", meta.get("categories")))
    source = _text(meta.get("source"))
    first = next((b for b in blocks if b.kind == "p"), None)
    return Parsed(
        format=NAME,
        title=title,
        dates=tuple(d for d in dates if d),
        blocks=blocks,
        content_html=md.renderer.render(tokens, md.options, {}).strip(),
        place=dateline_place(first.lines[0]) if first is not None else None,
        author=_names(meta.get("author", meta.get("authors"))) or reading.author,
        link=_text(meta.get("link", meta.get("url"))) or (source if _is_url(source) else None),
        source_name=None if _is_url(source) else source,
        declared_topics=_strings(topics),
        roles=tuple(roles),
    )


def _mark(roles: list[Role], token: Token, above: int, role: Role) -> None:
    """Give the source lines of a block token (below `above` front-matter lines) a role."""
    if token.map is not None:
        for k in range(above + token.map[0], min(above + token.map[1], len(roles))):
            if roles[k] != "blank":
                roles[k] = role


def _read_roles(
    tokens: Sequence[Token], title: str | None, roles: list[Role], above: int
) -> tuple[list[Token], Reading]:
    """The tokens of the blocks that are the note's text, and what its furniture said.

    Each top-level block is one line for the reader of roles, under the title when there is
    one; lists and code are always text. The source lines of each block get its role in
    `roles`.
    """
    groups = _top_level(tokens)
    lines: list[str] = [title] if title else []
    for group in groups:
        text = " ".join(" ".join(_plain(t) for t in group if t.type == "inline").split())
        listed = group[0].type in ("bullet_list_open", "ordered_list_open", "fence", "code_block")
        lines.extend([f"\u2022 {text}" if listed or not text else text, ""])
    reading = read_roles(lines)
    offset = 1 if title else 0
    kept: list[Token] = []
    for n, group in enumerate(groups):
        role = reading.roles[offset + 2 * n]
        _mark(roles, group[0], above, role)
        if role in _TEXT_ROLES:
            kept.extend(group)
    return kept, reading


_TEXT_ROLES = frozenset(("body", "dateline", "standfirst", "headline"))


def _top_level(tokens: Sequence[Token]) -> list[list[Token]]:
    """Tokens grouped by top-level block: a paragraph, a heading, a whole list, a fence."""
    groups: list[list[Token]] = []
    depth = 0
    for token in tokens:
        if depth == 0:
            groups.append([])
        groups[-1].append(token)
        depth += token.nesting
    return groups


# markdown-it-py and PyYAML take ~30 ms to import, in every process that reads files, and
# most seeds are plain text: they are imported when the first Markdown file is read.
@functools.cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def _front_matter(lines: Sequence[str]) -> tuple[dict[str, object], Sequence[str]]:
    if not lines or lines[0].strip() != "---":
        return {}, lines
    import yaml

    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            try:
                data = yaml.safe_load("\n".join(lines[1:end]))
            except (yaml.YAMLError, ValueError):  # PyYAML raises ValueError for 2026-02-30
                return {}, lines
            if not isinstance(data, dict):
                return {}, lines
            return {str(k).lower(): v for k, v in data.items()}, lines[end + 1 :]
    return {}, lines


def _text(value: object) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = " ".join(str(value).split())
    return text or None


def _is_url(text: str | None) -> bool:
    """ "source: https://..." (as web clippers write it) is the story's address, not a name."""
    return text is not None and text.startswith(("http://", "https://")) and " " not in text


def _names(value: object) -> str | None:
    """An author, or a list of them, without wiki-link brackets: "[[Mette Lund]]"."""
    listed = _strings(value) if isinstance(value, list) else (_text(value) or "",)
    names = [name.removeprefix("[[").removesuffix("]]").strip() for name in listed]
    return " and ".join(name for name in names if name) or None


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(t.strip() for t in value.split(",") if t.strip())
    if isinstance(value, list):
        return tuple(t for t in (_text(v) for v in value) if t)
    return ()


def _date_text(value: object) -> str | None:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return _text(value)


def _blocks(tokens: Sequence[Token]) -> tuple[Block, ...]:
    blocks: list[Block] = []
    items: list[str] = []
    depth = 0
    for i, token in enumerate(tokens):
        if token.type == "bullet_list_open" or token.type == "ordered_list_open":
            depth += 1
        elif token.type == "bullet_list_close" or token.type == "ordered_list_close":
            depth -= 1
            if depth == 0 and items:
                blocks.append(Block(kind="ul", lines=tuple(items)))
                items = []
        elif token.type == "inline" and i > 0:
            text = " ".join(_plain(token).split())
            if not text:
                continue
            if depth:
                items.append(text)
            else:
                blocks.append(Block(kind=_BLOCK_KINDS.get(tokens[i - 1].type, "p"), lines=(text,)))
        elif token.type in ("fence", "code_block") and token.content.strip():
            blocks.append(Block(kind="pre", lines=tuple(token.content.rstrip("\n").split("\n"))))
    return tuple(blocks)


def _plain(token: Token) -> str:
    parts: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            continue
    return "".join(parts)
