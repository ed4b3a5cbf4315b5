from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from touchbase.ops.backups import backup_database


class Command(BaseCommand):
    help = "Copy the SQLite database to PATH while touchbase keeps running (online backup)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="where to write the copy")

    def handle(self, *args, path: Path, **options):
        try:
            size = backup_database(destination=path)
        except ValidationError as error:
            raise CommandError(error_text(error)) from None
        self.stdout.write(f"Backed up to {path} ({size / 1_048_576:.1f} MiB)")


def error_text(error: ValidationError) -> str:
    return "; ".join(f"{name}: {' '.join(m)}" for name, m in error.message_dict.items())
