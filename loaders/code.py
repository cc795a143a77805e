"""Source code files: one Document per top-level definition (function, class, ...).

Python is split with `ast` (exact ends, decorators included); other languages with a regex on
definition keywords at low indentation, where a definition runs until the next one starts. Comment
and decorator/annotation lines directly above a definition belong to it. Code between definitions
(imports, constants) becomes its own Document. Each Document has `language`, `location`
("lines 10-42") and, for a definition, `symbol` (its name). The chunker never merges Documents, so
a definition is never glued to its neighbour; a long one is split at its blank lines.

    >>> docs = load_code(Path("app.py"), "app.py")                    # doctest: +SKIP
    >>> [(d.metadata["location"], d.metadata.get("symbol")) for d in docs]
    [('lines 1-4', None), ('lines 6-20', 'RagApp'), ('lines 23-30', 'main')]
"""

from __future__ import annotations

import functools
import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from langchain_core.documents import Document

from loaders.base import check_readable_file, decode_bytes, make_document, require_text

log = logging.getLogger(__name__)

LANGUAGE_BY_SUFFIX = {
    ".py": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".tsx": "typescript",
    ".java": "java",
    ".kt": "kotlin",
    ".scala": "scala",
    ".swift": "swift",
    ".cs": "csharp",
    ".go": "go",
    ".rs": "rust",
    ".c": "c",
    ".h": "c",
    ".cpp": "cpp",
    ".cc": "cpp",
    ".hpp": "cpp",
    ".rb": "ruby",
    ".php": "php",
    ".sh": "shell",
    ".bash": "shell",
    ".sql": "sql",
}

_JAVA_MODIFIERS = r"(?:public|protected|private|static|final|abstract|synchronized|native|default|strictfp)"
_CSHARP_MODIFIERS = r"(?:public|protected|private|internal|static|sealed|abstract|virtual|override|async|partial|readonly|unsafe|extern|new)"
_KOTLIN_MODIFIERS = (
    r"(?:public|private|protected|internal|open|abstract|override|suspend|inline|data|sealed|enum|annotation"
    r"|companion|inner|final|operator|infix|tailrec|external|value)"
)

# Per language: the definition patterns (group "name" is the symbol) and the deepest indentation
# (in columns, a tab counts 4) at which a definition starts a new Document. Class-based languages
# allow one level, so that methods inside a class are split apart; the others stay at top level.
_DEFINITIONS: dict[str, tuple[int, list[str]]] = {
    "python": (0, [r"(?:async\s+)?def\s+(?P<name>\w+)", r"class\s+(?P<name>\w+)"]),
    "javascript": (
        0,
        [
            r"(?:export\s+(?:default\s+)?)?(?:async\s+)?function\s*\*?\s*(?P<name>[\w$]+)",
            r"(?:export\s+(?:default\s+)?)?(?:abstract\s+)?class\s+(?P<name>[\w$]+)",
            r"(?:export\s+)?(?:const|let|var)\s+(?P<name>[\w$]+)\s*(?::[^=]+)?=\s*(?:async\s+)?(?:function\b|\([^)]*\)\s*(?::[^=]+)?=>|[\w$]+\s*=>)",
        ],
    ),
    "java": (
        4,
        [
            rf"(?:@\w+\s+)*(?:{_JAVA_MODIFIERS}\s+)*(?:class|interface|enum|record|@interface)\s+(?P<name>\w+)",
            rf"(?:{_JAVA_MODIFIERS}\s+)+(?:<[^>]+>\s+)?[\w<>\[\],.?\s]*?\b(?P<name>\w+)\s*\([^;]*$",
        ],
    ),
    "csharp": (
        8,  # classes inside a `namespace { }` block, and their methods
        [
            rf"(?:{_CSHARP_MODIFIERS}\s+)*(?:class|interface|enum|struct|record)\s+(?P<name>\w+)",
            rf"(?:{_CSHARP_MODIFIERS}\s+)+[\w<>\[\],.?\s]*?\b(?P<name>\w+)\s*(?:<[^>]*>)?\s*\([^;]*$",
        ],
    ),
    "kotlin": (
        4,
        [rf"(?:{_KOTLIN_MODIFIERS}\s+)*(?:fun|class|object|interface)\s+(?:<[^>]+>\s*)?(?:[\w.]+\.)?(?P<name>\w+)"],
    ),
    "scala": (
        4,
        [r"(?:(?:private|protected|override|final|sealed|abstract|implicit|lazy|case)\s+)*(?:def|class|object|trait|enum)\s+(?P<name>\w+)"],
    ),
    "swift": (
        4,
        [
            r"(?:@\w+\s+)*(?:(?:public|private|fileprivate|internal|open|final|static|class|override|mutating)\s+)*"
            r"(?:func|class|struct|enum|protocol|extension|actor)\s+(?P<name>[\w.]+)"
        ],
    ),
    "php": (
        4,
        [r"(?:(?:abstract|final|public|private|protected|static|readonly)\s+)*(?:function|class|interface|trait|enum)\s+&?(?P<name>\w+)"],
    ),
    "ruby": (2, [r"(?:def|class|module)\s+(?P<name>[\w.:]+[?!=]?)"]),
    "go": (0, [r"func\s+(?:\([^)]*\)\s*)?(?P<name>\w+)", r"type\s+(?P<name>\w+)"]),
    "rust": (
        4,  # methods inside `impl` blocks
        [
            r"(?:pub(?:\([\w\s:]+\))?\s+)?(?:(?:async|const|unsafe|default)\s+)*(?:extern\s+\"\w+\"\s+)?fn\s+(?P<name>\w+)",
            r"(?:pub(?:\([\w\s:]+\))?\s+)?(?:struct|enum|trait|union|mod|type)\s+(?P<name>\w+)",
            r"(?:unsafe\s+)?impl\b(?:<[^>]*>)?\s*(?P<name>[^{]+?)\s*(?:\{|$)",
            r"macro_rules!\s*(?P<name>\w+)",
        ],
    ),
    # A function definition starts at column 0 with a return type; a line ending in ";" is only a
    # declaration, and a control statement is never at column 0 in real code.
    "c": (
        0,
        [
            r"(?!(?:if|for|while|switch|return|else|do|case|typedef|extern)\b)"
            r"(?:[A-Za-z_][\w\s\*]*?[\s\*])?(?P<name>[A-Za-z_]\w*)\s*\([^;]*$",
            r"(?:typedef\s+)?(?:struct|union|enum)\s+(?P<name>\w+)[^;]*$",
        ],
    ),
    "cpp": (
        0,
        [
            r"(?!(?:if|for|while|switch|return|else|do|case|typedef|extern|using|class|struct|namespace)\b)"
            r"(?:template\s*<[^>]*>\s*)?(?:[A-Za-z_][\w\s\*&:<>,~]*?[\s\*&])?(?P<name>[A-Za-z_~][\w:~]*)\s*\([^;]*$",
            r"(?:template\s*<[^>]*>\s*)?(?:class|struct|union|enum(?:\s+class)?|namespace)\s+(?P<name>\w+)[^;]*$",
        ],
    ),
    "shell": (0, [r"(?:function\s+(?P<name>[\w.:-]+)|(?P<name2>[\w.:-]+)\s*\(\s*\))"]),
    "sql": (
        0,
        [
            r"(?i:create\s+(?:or\s+replace\s+)?(?:temp(?:orary)?\s+)?(?:unique\s+)?"
            r"(?:table|view|materialized\s+view|function|procedure|trigger|index|type|schema|sequence)\s+"
            r"(?:if\s+not\s+exists\s+)?)(?P<name>[\w.\"`\[\]]+)"
        ],
    ),
}
_DEFINITIONS["typescript"] = (
    0,
    _DEFINITIONS["javascript"][1]
    + [r"(?:export\s+)?(?:declare\s+)?(?:abstract\s+)?(?:interface|type|enum|namespace)\s+(?P<name>[\w$]+)"],
)
# Lines that belong to the definition below them: comments, decorators/annotations, attributes.
_LEADING_LINE = re.compile(r"\s*(?:#|//|/\*|\*|--|@|\[)")
# C and C++ often put the return type on its own line above the name ("static int\nmain(void)").
_RETURN_TYPE_LINE = re.compile(r"(?:template\s*<[^>]*>\s*|[A-Za-z_][\w\s\*&:<>,]*)$")


@dataclass
class Segment:
    """Lines `start`..`end` (1-based, inclusive) of a file; `symbol` is a definition's name."""

    start: int
    end: int
    symbol: str | None = None


def load_code(path: Path, source: str) -> list[Document]:
    check_readable_file(path, source)
    text = decode_bytes(path.read_bytes(), source).replace("\r\n", "\n").replace("\r", "\n")
    language = LANGUAGE_BY_SUFFIX[path.suffix.lower()]
    lines = text.split("\n")
    segments = python_segments(text) if language == "python" else None
    if segments is None:
        segments = regex_segments(lines, language)
    documents = []
    for segment in segments:
        start, end = segment.start, segment.end
        # Blank lines at either end belong to no definition and would make the line range vaguer.
        while start < end and not lines[start - 1].strip():
            start += 1
        while end > start and not lines[end - 1].strip():
            end -= 1
        location = f"lines {start}-{end}" if end > start else f"line {start}"
        body = "\n".join(lines[start - 1 : end])
        documents.append(
            make_document(body, source, "code", title=path.name, language=language, location=location, symbol=segment.symbol)
        )
    return require_text(documents, source)


def python_segments(text: str) -> list[Segment] | None:
    """Top-level statements grouped: each def/class alone, runs of other statements together.
    None when the file does not parse (Python 2, a template): the regex split is used instead."""
    import ast

    try:
        with warnings.catch_warnings():  # "invalid escape sequence" and the like are not ours to report
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # MemoryError: ast on a 1 MB line
        log.debug("not parseable as Python 3; splitting on definition keywords", exc_info=True)
        return None
    lines = text.split("\n")
    segments: list[Segment] = []
    for node in tree.body:
        start = min([node.lineno] + [decorator.lineno for decorator in getattr(node, "decorator_list", [])])
        end = node.end_lineno or node.lineno
        is_definition = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        if is_definition:
            start = _with_leading_lines(lines, start, floor=segments[-1].end + 1 if segments else 1)
            segments.append(Segment(start, end, node.name))
        elif segments and segments[-1].symbol is None:
            segments[-1].end = end
        else:
            segments.append(Segment(segments[-1].end + 1 if segments else 1, end))
    return _cover_file(segments, len(lines))


def regex_segments(lines: list[str], language: str) -> list[Segment]:
    """A segment starts at each definition line (plus its leading comments) and ends where the
    next one starts; lines before the first definition form their own segment."""
    depth, patterns = _compiled_definitions(language)
    starts: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        stripped = line.lstrip()
        indent = len(line[: len(line) - len(stripped)].expandtabs(4))
        if not stripped or indent > depth:
            continue
        for pattern in patterns:
            match = pattern.match(stripped)
            if match:
                name = next(value for value in match.groupdict().values() if value)
                starts.append((number, name.strip()))
                break
    segments: list[Segment] = []
    for number, name in starts:
        floor = segments[-1].start + 1 if segments else 1
        if language in ("c", "cpp") and number - 1 >= floor and _RETURN_TYPE_LINE.match(lines[number - 2]):
            number -= 1
        start = _with_leading_lines(lines, number, floor)
        if segments:
            segments[-1].end = start - 1
        elif start > 1:
            segments.append(Segment(1, start - 1))
        segments.append(Segment(start, len(lines), name))
    return _cover_file(segments, len(lines))


@functools.cache
def _compiled_definitions(language: str) -> tuple[int, list[re.Pattern[str]]]:
    # Compiled on first use: importing `loaders` (which lists these suffixes) stays cheap.
    depth, patterns = _DEFINITIONS[language]
    return depth, [re.compile(pattern) for pattern in patterns]


def _with_leading_lines(lines: list[str], start: int, floor: int) -> int:
    """Move `start` up over the comment/decorator lines directly above it (no blank line between)."""
    while start - 1 >= floor and lines[start - 2].strip() and _LEADING_LINE.match(lines[start - 2]):
        start -= 1
    return start


def _cover_file(segments: list[Segment], line_count: int) -> list[Segment]:
    """Every line in exactly one segment: gaps join the segment after them, the tail the last one."""
    if not segments:
        return [Segment(1, line_count)] if line_count else []
    segments[0].start = 1
    for previous, current in zip(segments, segments[1:]):
        current.start = previous.end + 1
    segments[-1].end = line_count
    return segments
