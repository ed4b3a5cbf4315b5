"""bench/results/latest.json: every benchmark merges its own keys into one file."""

import json
import os
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def record(values: dict) -> dict:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    try:
        current = json.loads(RESULTS.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        current = {}
    current.update(values)
    temporary = RESULTS.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    temporary.replace(RESULTS)
    return current
