"""The `touchbase` console script: Django's management commands under the product's name.

`touchbase up`, `touchbase serve`, `touchbase migrate`, `touchbase worker`, ... are all
`manage.py` commands. The long-running ones refuse to start on a half-configured production
install (touchbase/ops/production.py).
"""

import os
import sys

LONG_RUNNING = {"serve", "up", "worker"}


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "touchbase.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "touchbase"
    if len(args) > 1 and args[1] in LONG_RUNNING:
        refuse_half_configured_production()
    execute_from_command_line(args)


def refuse_half_configured_production() -> None:
    import django
    from django.core.exceptions import ImproperlyConfigured

    django.setup()
    from touchbase.ops.production import require_production_settings

    try:
        require_production_settings()
    except ImproperlyConfigured as error:
        sys.stderr.write(f"{error}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
