"""Print CI's last line: one plain summary of every test it ran, `N passed, N failed[, N skipped]`.

Each argument is `LOG:STATUS` for a pytest run (its final `=== ... in Ns ===` line is read) or
`step:NAME:STATUS` for a step counted as one test (schemathesis, lint). A pytest run that
failed before pytest summarised anything (lint, migrations check) counts as one failure.
"""

import re
import sys
from pathlib import Path

COUNT = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed)")
FINAL = re.compile(r"^=+ .*\bin [\d.]+s.* =+$")


def pytest_counts(log: Path) -> dict[str, int] | None:
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    for line in reversed(lines):
        if FINAL.match(line.strip()):
            counts = {"passed": 0, "failed": 0, "skipped": 0}
            for number, word in COUNT.findall(line):
                key = {"error": "failed", "errors": "failed", "xpassed": "failed"}.get(word, word)
                key = "skipped" if key == "xfailed" else key
                counts[key] += int(number)
            return counts
    return None


def main(args: list[str]) -> None:
    total = {"passed": 0, "failed": 0, "skipped": 0}
    for arg in args:
        if arg.startswith("step:"):
            _, _name, status = arg.split(":", 2)
            total["passed" if status == "0" else "failed"] += 1
            continue
        log, status = arg.rsplit(":", 1)
        counts = pytest_counts(Path(log))
        if counts is None:
            counts = {"passed": 0, "failed": 1, "skipped": 0}
        elif status != "0" and counts["failed"] == 0:
            counts["failed"] = 1  # pytest passed but a later step of the command failed
        for key, value in counts.items():
            total[key] += value
    line = f"{total['passed']} passed, {total['failed']} failed"
    if total["skipped"]:
        line += f", {total['skipped']} skipped"
    print(line)


if __name__ == "__main__":
    main(sys.argv[1:])
