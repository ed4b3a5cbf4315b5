"""The rule that keeps a laptop's defaults off an internet-facing install.

With debug off, touchbase starts only when the secret key and the allowed hosts were set
explicitly. Checked by `touchbase serve`, `touchbase up`, `touchbase worker` (touchbase/cli.py),
the WSGI application and `touchbase check --deploy`.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

WHY = {
    "TOUCHBASE_SECRET_KEY": "set it (or TOUCHBASE_SECRET_KEY_FILE) to a long random value, "
    "e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(50))'`",
    "TOUCHBASE_ALLOWED_HOSTS": "set it to the host names touchbase answers to, comma separated",
}


def production_problems() -> list[str]:
    if settings.DEBUG:
        return []
    return [
        f"{name} is not set and TOUCHBASE_DEBUG is off: {WHY[name]}"
        for name, explicit in settings.TOUCHBASE_EXPLICIT_SETTINGS.items()
        if not explicit
    ]


def require_production_settings() -> None:
    problems = production_problems()
    if problems:
        raise ImproperlyConfigured("touchbase refuses to start. " + " ".join(problems))


@checks.register(checks.Tags.security, deploy=True)
def check_explicit_settings(app_configs, **kwargs):
    return [checks.Error(problem, id="touchbase.E001") for problem in production_problems()]
