"""The `touchbase` console script: Django's management commands under the product's name.

`touchbase up`, `touchbase migrate`, `touchbase worker`, ... are all `manage.py` commands.
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "touchbase.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "touchbase"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
