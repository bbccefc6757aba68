"""Reading a JSON-lines log that another process may be appending to (metrics.jsonl, timing.jsonl)."""

from __future__ import annotations

import json
from typing import Any


def parse_jsonl(text: str, source: str, error: type[Exception] = ValueError) -> list[dict[str, Any]]:
    """The JSON objects in text, one per line. A last line that is not valid JSON is a write still in progress
    and is left out; a bad line before it raises error naming source and the line number."""
    lines = text.split("\n")
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            if number == len(lines):  # no newline yet: the writer is in the middle of this line
                break
            raise error(
                f"{source}, line {number}: not valid JSON ({e.msg}); the file is damaged or was edited"
            ) from None
        if not isinstance(record, dict):
            raise error(f"{source}, line {number}: expected a JSON object, got {type(record).__name__}")
        records.append(record)
    return records
