"""Where a JSON path sits in the text a person typed, so an error can name its line.

The standard json module keeps no positions; this small scanner walks the text once and
records the line of every path (``tables[0].columns[1].type``), in the same notation as the
engine's issue paths. It never raises: on text it cannot follow it returns what it found.
"""

from __future__ import annotations

import bisect
import contextlib

MAX_SCAN_CHARS = 512 * 1024  # beyond this a line number is not worth the time


class _Stop(Exception):
    pass


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.newlines = [i for i, ch in enumerate(text) if ch == "\n"]
        self.lines: dict[str, int] = {}

    def line(self, pos: int) -> int:
        return bisect.bisect_left(self.newlines, pos) + 1

    def ws(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n and text[self.pos] in " \t\r\n":
            self.pos += 1

    def peek(self) -> str:
        if self.pos >= len(self.text):
            raise _Stop
        return self.text[self.pos]

    def string(self) -> str:
        start = self.pos + 1
        i = start
        text = self.text
        while i < len(text):
            ch = text[i]
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                self.pos = i + 1
                return text[start:i]
            i += 1
        raise _Stop

    def value(self, path: str, depth: int) -> None:
        if depth > 64:
            raise _Stop
        self.ws()
        ch = self.peek()
        if ch == "{":
            self.pos += 1
            self.ws()
            if self.peek() == "}":
                self.pos += 1
                return
            while True:
                self.ws()
                if self.peek() != '"':
                    raise _Stop
                key_pos = self.pos
                key = self.string()
                child = f"{path}.{key}" if path else key
                self.lines.setdefault(child, self.line(key_pos))
                self.ws()
                if self.peek() != ":":
                    raise _Stop
                self.pos += 1
                self.value(child, depth + 1)
                self.ws()
                ch = self.peek()
                self.pos += 1
                if ch == "}":
                    return
                if ch != ",":
                    raise _Stop
        elif ch == "[":
            self.pos += 1
            self.ws()
            if self.peek() == "]":
                self.pos += 1
                return
            index = 0
            while True:
                self.ws()
                child = f"{path}[{index}]"
                self.lines.setdefault(child, self.line(self.pos))
                self.value(child, depth + 1)
                self.ws()
                ch = self.peek()
                self.pos += 1
                if ch == "]":
                    return
                if ch != ",":
                    raise _Stop
                index += 1
        elif ch == '"':
            self.string()
        else:
            text, n = self.text, len(self.text)
            while self.pos < n and text[self.pos] not in ",]} \t\r\n":
                self.pos += 1


def path_lines(text: str) -> dict[str, int]:
    """``{path: line}`` for every key and list item in ``text`` (1-based lines)."""
    if len(text) > MAX_SCAN_CHARS:
        return {}
    scanner = _Scanner(text)
    with contextlib.suppress(_Stop):
        scanner.value("", 0)
    return scanner.lines


def line_of(lines: dict[str, int], path: str) -> int | None:
    """The line of ``path``, or of its nearest ancestor that is in the text (a missing key is
    reported at the object that should hold it)."""
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return 1 if lines else None
