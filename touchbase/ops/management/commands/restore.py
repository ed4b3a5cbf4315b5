from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from touchbase.ops.backups import restore_database
from touchbase.ops.management.commands.backup import error_text


class Command(BaseCommand):
    help = "Replace the SQLite database with a copy made by `touchbase backup` (needs --yes)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="a file written by `touchbase backup`")
        parser.add_argument(
            "--yes", action="store_true", help="yes, replace every row of the live database"
        )

    def handle(self, *args, path: Path, yes: bool, **options):
        if not yes:
            raise CommandError("--yes: restoring replaces every row of the live database")
        try:
            restore_database(backup=path)
        except ValidationError as error:
            raise CommandError(error_text(error)) from None
        self.stdout.write(
            f"Restored {path}. Run `touchbase migrate` if the copy is older than this version."
        )
