"""Structure-respecting chunks sized in the embedding model's tokens, with stable ids.

Each Document (a page, a section, a table row) is chunked on its own, so a chunk never spans two pages,
sections or rows. Inside it the text is cut into sentences (table rows: lines), those are packed greedily up
to ``chunk_tokens`` (and ``chunk_tokens * MAX_CHARS_PER_TOKEN`` characters), preferring to end a chunk at a
paragraph break once it is half full, and the next chunk starts with the previous chunk's last whole
sentences up to ``overlap_tokens``. Only a sentence longer than the budget is cut further (at line breaks,
then words, then characters).

langchain-text-splitters' recursive splitter overlaps by whatever unit it last merged (often whole
paragraphs, so often not at all) and returns no offsets, so the packing here is done directly on spans.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import accumulate

from langchain_core.documents import Document
from pydantic import BaseModel, ConfigDict, Field, model_validator

TokenCounter = Callable[[str], int]
CharCounter = Callable[[int, int], int]  # non-whitespace characters of text[start:end]

MODEL_MAX_TOKENS = 256  # MiniLM's max_seq_length
_SPECIAL_TOKENS = 2  # [CLS] and [SEP] take two of those positions
# Chunks are also capped in characters: WordPiece reads a word of a script it lacks (Thai) or of over 100
# characters as one [UNK] token, so 200 such "tokens" can be 20,000+ characters that embed as noise and flood
# the LLM prompt. Text the model can read averages 4-5 characters per token, so this cap binds only on [UNK].
# Whitespace is not counted: column-aligned contracts and PDF layouts hold long runs of spaces that cost no
# tokens, and counting them split such chunks for nothing.
MAX_CHARS_PER_TOKEN = 6
_ROW_TYPES = frozenset({"csv", "xlsx"})
_LOCATOR_KEYS = ("page", "sheet", "row", "section")

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_SENTENCE_END = re.compile(r"(?:(?<=[.!?;])|(?<=[.!?;][\"')\]]))\s+")
_LINE_BREAK = re.compile(r"\n\s*")
_WHITESPACE = re.compile(r"\s+")


class ChunkingConfig(BaseModel):
    """Chunk size and overlap in model tokens (without the two special tokens the model adds)."""

    model_config = ConfigDict(frozen=True)

    chunk_tokens: int = Field(200, ge=16, le=MODEL_MAX_TOKENS - _SPECIAL_TOKENS)
    overlap_tokens: int = Field(30, ge=0)

    @model_validator(mode="after")
    def _overlap_below_half(self) -> ChunkingConfig:
        if self.overlap_tokens > self.chunk_tokens // 2:
            raise ValueError(
                f"overlap_tokens must be at most half of chunk_tokens ({self.chunk_tokens // 2}), "
                f"got {self.overlap_tokens}; lower overlap_tokens or raise chunk_tokens"
            )
        return self


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    tokens: int
    opens_paragraph: bool


def _pieces(text: str, start: int, end: int, separator: re.Pattern[str]) -> list[tuple[int, int]]:
    """Non-blank (start, end) pieces of ``text[start:end]`` between matches of ``separator``."""
    pieces, cursor = [], start
    for match in separator.finditer(text, start, end):
        pieces.append((cursor, match.start()))
        cursor = match.end()
    pieces.append((cursor, end))
    return [_trim(text, a, b) for a, b in pieces if text[a:b].strip()]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """``(start, end)`` moved inwards past surrounding whitespace."""
    piece = text[start:end]
    return start + len(piece) - len(piece.lstrip()), end - len(piece) + len(piece.rstrip())


def _non_space_counter(text: str) -> CharCounter:
    """Non-whitespace characters between two offsets of ``text``, in constant time (a prefix sum)."""
    prefix = [0, *accumulate(not character.isspace() for character in text)]
    return lambda start, end: prefix[end] - prefix[start]


def _fit(
    text: str,
    start: int,
    end: int,
    levels: list[re.Pattern[str]],
    count: TokenCounter,
    chars: CharCounter,
    budget: int,
) -> list[tuple[int, int, int]]:
    """(start, end, tokens) pieces of at most ``budget`` tokens and ``budget * MAX_CHARS_PER_TOKEN``
    non-whitespace characters, cut at the first level where they fit."""
    tokens = count(text[start:end])
    if tokens <= budget and chars(start, end) <= budget * MAX_CHARS_PER_TOKEN:
        return [(start, end, tokens)]
    if levels:
        pieces = _pieces(text, start, end, levels[0])
        if len(pieces) > 1:
            return [fit for a, b in pieces for fit in _fit(text, a, b, levels[1:], count, chars, budget)]
        return _fit(text, start, end, levels[1:], count, chars, budget)
    if end - start <= 1:
        return [(start, end, tokens)]  # a single character is as small as text gets
    middle = (start + end) // 2
    halves = [_trim(text, a, b) for a, b in ((start, middle), (middle, end)) if text[a:b].strip()]
    return [fit for a, b in halves for fit in _fit(text, a, b, [], count, chars, budget)]


def _spans(text: str, rows: bool, count: TokenCounter, chars: CharCounter, budget: int) -> list[_Span]:
    """Sentence spans (line spans for table rows) marked where a paragraph begins."""
    start, end = len(text) - len(text.lstrip()), len(text.rstrip())
    if start >= end:
        return []
    tokens = count(text[start:end])
    # The common case for rows and short sections: one chunk, one count.
    if tokens <= budget and chars(start, end) <= budget * MAX_CHARS_PER_TOKEN:
        return [_Span(start, end, tokens, True)]
    unit = _LINE_BREAK if rows else _SENTENCE_END
    fallback = [_SENTENCE_END, _WHITESPACE] if rows else [_LINE_BREAK, _WHITESPACE]
    spans: list[_Span] = []
    for p_start, p_end in _pieces(text, 0, len(text), _PARAGRAPH_BREAK):
        first = True
        for u_start, u_end in _pieces(text, p_start, p_end, unit):
            for start, end, tokens in _fit(text, u_start, u_end, fallback, count, chars, budget):
                spans.append(_Span(start, end, tokens, first))
                first = False
    return spans


def _pack(
    text: str, spans: list[_Span], count: TokenCounter, chars: CharCounter, config: ChunkingConfig
) -> Iterable[tuple[int, int]]:
    """Index ranges [i, j) of spans per chunk: greedy fill, paragraph-aware ends, whole-sentence overlap."""
    max_chars = config.chunk_tokens * MAX_CHARS_PER_TOKEN
    i = 0
    while i < len(spans):
        j, total = i, 0
        while (
            j < len(spans)
            and total + spans[j].tokens <= config.chunk_tokens
            and chars(spans[i].start, spans[j].end) <= max_chars
        ):
            if j > i and spans[j].opens_paragraph and total >= config.chunk_tokens // 2:
                break
            total += spans[j].tokens
            j += 1
        j = max(j, i + 1)
        while j - 1 > i and count(text[spans[i].start : spans[j - 1].end]) > config.chunk_tokens:
            j -= 1  # the counter was not additive across the joined spans: give back the last one
        yield i, j
        if j >= len(spans):
            return
        back, carried, room = j, 0, min(config.overlap_tokens, config.chunk_tokens - spans[j].tokens)
        while (  # the overlap's size, in tokens and characters, leaving room for the next span
            back - 1 > i
            and carried + spans[back - 1].tokens <= room
            and chars(spans[back - 1].start, spans[j - 1].end) <= config.overlap_tokens * MAX_CHARS_PER_TOKEN
            and chars(spans[back - 1].start, spans[j].end) <= max_chars
        ):
            back -= 1
            carried += spans[back].tokens
        i = back


def _chunk_id(metadata: dict, text: str, repeat: int) -> str:
    locator = ";".join(f"{key}={metadata[key]}" for key in _LOCATOR_KEYS if key in metadata)
    key = "\x1f".join([str(metadata.get("source", "")), locator, text] + ([str(repeat)] if repeat else []))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _split_one(document: Document, count: TokenCounter, config: ChunkingConfig) -> list[Document]:
    text = document.page_content
    rows = document.metadata.get("doc_type") in _ROW_TYPES
    chars = _non_space_counter(text)
    spans = _spans(text, rows, count, chars, config.chunk_tokens)
    ranges = list(_pack(text, spans, count, chars, config))
    chunks: list[Document] = []
    seen: dict[str, int] = {}
    for index, (i, j) in enumerate(ranges):
        start, end = spans[i].start, spans[j - 1].end
        chunk_text = text[start:end]
        repeat = seen.get(chunk_text, 0)
        seen[chunk_text] = repeat + 1
        metadata = {
            **document.metadata,
            "chunk_index": index,
            "char_start": start,
            "char_end": end,
            "chunk_id": _chunk_id(document.metadata, chunk_text, repeat),
        }
        if rows and len(ranges) > 1:
            metadata["row_split"] = True
        chunks.append(Document(page_content=chunk_text, metadata=metadata))
    return chunks


# PUBLIC API


def split_documents(
    documents: Iterable[Document], *, count_tokens: TokenCounter, config: ChunkingConfig | None = None
) -> list[Document]:
    """Chunks of every Document, each with the parent's metadata plus ``chunk_index``, ``char_start`` /
    ``char_end`` (offsets into the parent text, so ``parent[char_start:char_end] == chunk``) and ``chunk_id``
    (sha256 of source, page/sheet/row/section and text: the same input always gives the same ids).

    A table row (``doc_type`` csv or xlsx) is one chunk; a row longer than the budget is cut at line breaks
    into several chunks that carry ``row_split=True``, so nothing of it is lost from the index.

    Args:
        documents: Documents from ``data_connectors.documents.load_documents`` (any Documents work).
        count_tokens: the embedding model's counter (``SentenceTransformerEmbeddings.count_tokens``).
        config: sizes in tokens; defaults to ``ChunkingConfig()``.
    """
    config = config or ChunkingConfig()
    return [chunk for document in documents for chunk in _split_one(document, count_tokens, config)]
