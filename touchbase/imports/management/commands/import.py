"""`touchbase import customers|jobs FILE --business SLUG [--dry-run] [--errors OUT.csv]`"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from touchbase.imports.importing import import_file
from touchbase.imports.reading import FileProblem
from touchbase.tenancy.models import Business


def count_lines(path: Path) -> int:
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
    return lines


class Command(BaseCommand):
    help = "Import customers or jobs from a CSV file; bad rows go to an error CSV."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["customers", "jobs"])
        parser.add_argument("file", type=Path)
        parser.add_argument("--business", required=True, help="The business's slug.")
        parser.add_argument("--dry-run", action="store_true", help="Preview; write nothing.")
        parser.add_argument(
            "--errors",
            type=Path,
            help="Where to write the bad rows (default: FILE with .errors.csv).",
        )
        parser.add_argument(
            "--no-enroll", action="store_true", help="Jobs: do not enroll completed jobs."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, kind, file, business, dry_run, errors, no_enroll, no_progress, **o):
        target = Business.objects.filter(slug=business).first()
        if target is None:
            raise CommandError(f"no business with slug {business!r}")
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        errors_path = errors or file.with_name(f"{file.stem}.errors.csv")
        bar = tqdm(
            total=max(count_lines(file) - 1, 0),
            unit="row",
            disable=no_progress,
            file=sys.stderr,
            desc=f"{'previewing' if dry_run else 'importing'} {kind}",
        )
        last = 1

        def advance(number: int) -> None:
            nonlocal last
            bar.update(number - last)
            last = number

        try:
            with file.open("rb") as source, errors_path.open("w", newline="") as errors_to:
                report = import_file(
                    kind,
                    enroll=not no_enroll,
                    business=target,
                    source=source,
                    errors_to=errors_to,
                    dry_run=dry_run,
                    on_row=advance,
                    recorded_by=f"touchbase import ({file.name})",
                )
        except FileProblem as exc:
            errors_path.unlink(missing_ok=True)
            raise CommandError(f"{file}: {exc}") from None
        finally:
            bar.close()
        if report.failed == 0:
            errors_path.unlink(missing_ok=True)
        self.stdout.write(self.summary(report, errors_path))

    @staticmethod
    def summary(report, errors_path: Path) -> str:
        lines = [
            f"{'DRY RUN, nothing written: ' if report.dry_run else ''}{report.rows} rows read "
            f"({report.encoding}): {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.failed} failed",
        ]
        if report.kind == "jobs":
            skipped = ", ".join(f"{reason} {n}" for reason, n in report.not_enrolled.items())
            lines.append(f"enrolled: {report.enrolled}; not enrolled: {skipped or 'none'}")
        if report.unknown_columns:
            lines.append(f"ignored columns: {', '.join(report.unknown_columns)}")
        for error in report.first_errors[:10]:
            lines.append(f"  row {error.row} {error.column or '-'}: {error.reason}")
        if report.failed:
            lines.append(f"bad rows written to {errors_path}")
        return "\n".join(lines)
