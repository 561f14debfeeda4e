"""HTML and Markdown (headings become sections) and plain text (one Part).

Only text a reader sees is indexed: HTML elements hidden from display (``hidden``, ``display: none``,
``visibility: hidden``) are dropped, since invisible text can carry instructions aimed at the LLM
(``aria-hidden`` only hides from screen readers: that text is on screen and kept), and Markdown YAML front
matter is metadata (its ``title:`` becomes the title), not body text.
"""

from __future__ import annotations

import re

from data_connectors.documents._common import (
    ParsedFile,
    Part,
    UnreadableFileError,
    decode_text,
    normalise_text,
    push_heading,
    table_paragraphs,
    with_section,
)

_DROPPED_TAGS = frozenset(
    {"script", "style", "noscript", "template", "svg", "canvas", "iframe", "head", "nav", "button", "select"}
)
_HEADING_TAGS = {f"h{level}": level for level in range(1, 7)}
_BLOCK_TAGS = frozenset(
    {
        "p", "div", "section", "article", "main", "aside", "header", "footer", "li", "ul", "ol",
        "dl", "dt", "dd", "blockquote", "figure", "figcaption", "details", "summary",
        "form", "fieldset", "address", "hr", "caption",
    }
)  # fmt: skip
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})(.*)$")
_ATX_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT_UNDERLINE = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_NOT_SETEXT_TEXT = ("|", "-", "*", "+", ">", "#", "`", "~")
_MD_INLINE = re.compile(r"[*`]+|(?<!\w)_+|_+(?!\w)|<[^>]+>|\[([^\]]*)\]\([^)]*\)")


def _clean_md_heading(text: str) -> str:
    """``**§ 164.404 Notification**`` -> ``§ 164.404 Notification`` (links keep their label)."""
    return _SPACES.sub(" ", _MD_INLINE.sub(lambda m: m.group(1) or "", text)).strip()


def _hidden(tag) -> bool:
    """The element is not displayed, so a reader never sees its text."""
    return tag.has_attr("hidden") or bool(_HIDDEN_STYLE.search(str(tag.get("style", ""))))


def _html_table(table) -> list[str]:
    """A table whose first row is all ``<th>`` (or sits in ``<thead>``) has a header; nested tables are
    read as part of their cell."""
    rows = [row for row in table.find_all("tr") if row.find_parent("table") is table]
    cells = [row.find_all(["td", "th"], recursive=False) for row in rows]
    text = [[_SPACES.sub(" ", cell.get_text(" ")).strip() for cell in row] for row in cells]
    has_header = bool(cells and cells[0]) and (
        all(cell.name == "th" for cell in cells[0]) or rows[0].find_parent("thead") is not None
    )
    return table_paragraphs(text, has_header=has_header)


class _HtmlSections:
    """Walks the DOM once: headings open sections, block elements end paragraphs, the rest is inline text."""

    def __init__(self, title_heading: object = None) -> None:
        self.title_heading = title_heading
        self.parts: list[Part] = []
        self.stack: list[tuple[int, str]] = []
        self.paragraphs: list[str] = []
        self.inline: list[str] = []
        self.first_heading: str | None = None

    def end_paragraph(self) -> None:
        text = _SPACES.sub(" ", "".join(self.inline)).strip()
        if text:
            self.paragraphs.append(text)
        self.inline.clear()

    def end_section(self) -> None:
        self.end_paragraph()
        if self.paragraphs:
            self.parts.append(with_section("\n\n".join(self.paragraphs), self.stack))
        self.paragraphs.clear()

    def walk(self, node) -> None:
        from bs4 import NavigableString, Tag
        from bs4.element import PreformattedString

        for child in node.children:
            if isinstance(child, PreformattedString):  # comments, doctype, CDATA, processing instructions
                continue
            if isinstance(child, NavigableString):
                self.inline.append(str(child))
            elif isinstance(child, Tag):
                self.visit(child)

    def visit(self, tag) -> None:
        name = tag.name.lower()
        if name in _DROPPED_TAGS or _hidden(tag):
            return
        if name in _HEADING_TAGS:
            heading = _SPACES.sub(" ", tag.get_text(" ")).strip()
            if heading:
                self.end_section()
                if tag is not self.title_heading:
                    push_heading(self.stack, _HEADING_TAGS[name], heading)
                self.first_heading = self.first_heading or heading
            return
        if name == "br":
            self.end_paragraph()
            return
        if name == "pre":  # preformatted text keeps its line breaks
            self.end_paragraph()
            if tag.get_text().strip():
                self.paragraphs.append(tag.get_text().strip("\n"))
            return
        if name == "table":
            self.end_paragraph()
            self.paragraphs.extend(_html_table(tag))
            return
        block = name in _BLOCK_TAGS
        if block:
            self.end_paragraph()
        self.walk(tag)
        if block:
            self.end_paragraph()


def read_html(data: bytes) -> ParsedFile:
    """Scripts, styles, hidden elements and other non-content elements are dropped; ``<title>`` is the
    title."""
    from bs4 import BeautifulSoup

    if b"\x00" in data:
        raise UnreadableFileError("binary content (NUL bytes), not HTML; check the file type")
    soup = BeautifulSoup(data, "html.parser")
    title_tag = soup.find("title")
    title = _SPACES.sub(" ", title_tag.get_text()).strip() if title_tag else ""
    headings = [
        tag
        for tag in soup.find_all(list(_HEADING_TAGS))
        if tag.get_text(strip=True) and not any(_hidden(element) for element in (tag, *tag.parents))
    ]
    levels = [_HEADING_TAGS[tag.name] for tag in headings]
    walker = _HtmlSections(headings[0] if _first_is_title(levels) else None)
    walker.walk(soup.body or soup)
    walker.end_section()
    return ParsedFile(parts=walker.parts, title=title or walker.first_heading)


_FRONT_MATTER_KEY = re.compile(r"^[\w-]+\s*:")
# Keys that only front matter uses: a non-YAML block must name one ("Important: fast before sedation" is text).
_KNOWN_KEYS = re.compile(
    r"^(?:title|layout|date|tags|categories|author|authors|description|permalink|slug|draft|weight|lang)\s*:",
    re.I,
)
_FRONT_MATTER_TITLE = re.compile(r"^title\s*:\s*(.*?)\s*$", re.IGNORECASE)


def _front_matter(lines: list[str]) -> tuple[int, str | None]:
    """(index of the first body line, the title) of a YAML front matter block (``---`` ... ``---``); (0, None)
    when there is none. A block is front matter when it parses as a YAML mapping, or, when it does not parse
    (Jekyll's unquoted ``title: Dental care: a guide``), when every line looks like ``key: value`` or continues
    one; anything else is body text (a document may open with a ``---`` horizontal rule)."""
    import yaml

    if not lines or lines[0].strip() != "---":
        return 0, None
    closing = next((i for i, line in enumerate(lines[1:], 1) if line.strip() in {"---", "..."}), None)
    if closing is None:
        return 0, None
    block = lines[1:closing]
    try:
        mapping = yaml.safe_load("\n".join(block))
    except (yaml.YAMLError, RecursionError):
        mapping = None
    keyed = [line for line in block if line.strip()]
    raw_title = next(
        (m.group(1).strip("\"'") for line in keyed if (m := _FRONT_MATTER_TITLE.match(line))), None
    )
    if isinstance(mapping, dict):
        title = mapping.get("title")
        # YAML 1.1 reads "12:30" as 750 and "Yes" as True: a title that is not a string is taken as written.
        title = " ".join(title.split()) if isinstance(title, str) else raw_title
        return closing + 1, title or None
    if not keyed or not all(_FRONT_MATTER_KEY.match(line) or line[:1].isspace() for line in keyed):
        return 0, None
    if not any(_KNOWN_KEYS.match(line) for line in keyed):
        return 0, None
    return closing + 1, raw_title or None


def _closes(fence: str, line: str) -> bool:
    """``line`` closes a code block opened by ``fence``: the same character, at least as many, nothing after."""
    match = _FENCE.match(line)
    return (
        bool(match)
        and match.group(1)[0] == fence[0]
        and len(match.group(1)) >= len(fence)
        and not (match.group(2).strip())
    )


def _markdown_headings(lines: list[str]) -> dict[int, tuple[int, str]]:
    """Line index -> (level, heading) for ATX and setext headings outside code fences; a setext underline
    maps to level 0 so it is dropped with its heading."""
    headings: dict[int, tuple[int, str]] = {}
    fence = ""  # the opening fence (``` or ~~~, or longer) while inside a code block
    body_start, _ = _front_matter(lines)
    for i, line in enumerate(lines):
        if i < body_start:
            continue
        if fence:
            fence = "" if _closes(fence, line) else fence
            continue
        opening = _FENCE.match(line)
        if opening:
            fence = opening.group(1)
            continue
        atx = _ATX_HEADING.match(line)
        underline = _SETEXT_UNDERLINE.match(line) if i and i - 1 not in headings else None
        previous = lines[i - 1].strip() if i else ""
        if atx and _clean_md_heading(atx.group(2)):
            headings[i] = (len(atx.group(1)), _clean_md_heading(atx.group(2)))
        elif underline and previous and not previous.startswith(_NOT_SETEXT_TEXT):
            headings[i - 1] = (1 if underline.group(1).startswith("=") else 2, _clean_md_heading(previous))
            headings[i] = (0, "")
    return headings


def _first_is_title(levels: list[int]) -> bool:
    """A document's first heading is its title, not a section, when it is its only level-1 heading."""
    return bool(levels) and levels[0] == 1 and levels.count(1) == 1


def read_markdown(data: bytes) -> ParsedFile:
    """Headings open sections (a lone first ``# Title`` is the title, not a section); the body stays as is.
    YAML front matter is left out of the text; its ``title:``, when present, is the title."""
    lines = decode_text(data).split("\n")
    body_start, declared = _front_matter(lines)
    headings = _markdown_headings(lines)
    real = [(i, level, heading) for i, (level, heading) in sorted(headings.items()) if level]
    first = real[0][2] if real else None
    # A lone first H1 is the title, unless the front matter names another one: then it is a section.
    is_title = _first_is_title([level for _, level, _ in real]) and declared in (None, first)
    title_line = real[0][0] if is_title else None
    parts: list[Part] = []
    stack: list[tuple[int, str]] = []
    body: list[str] = []

    def flush() -> None:
        text = "\n".join(body)
        if text.strip():
            parts.append(with_section(text, stack))
        body.clear()

    for i, line in enumerate(lines[body_start:], body_start):
        if i not in headings:
            body.append(line)
        elif headings[i][0]:
            flush()
            if i != title_line:
                push_heading(stack, *headings[i])
    flush()
    return ParsedFile(parts=parts, title=declared or first)


def read_text(data: bytes) -> ParsedFile:
    text = decode_text(data)
    return ParsedFile(parts=[Part(text=normalise_text(text))] if text else [])
