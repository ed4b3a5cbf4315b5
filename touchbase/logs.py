"""Log lines: one line per event, as JSON when `TOUCHBASE_LOG_FORMAT=json`.

A traceback stays on its event's line (as a JSON field, or with its newlines escaped), so a
log shipper never splits one event into many.
"""

import json
import logging
from datetime import UTC, datetime

from django.core.exceptions import ImproperlyConfigured

FORMATS = ("plain", "json")


class OneLineFormatter(logging.Formatter):
    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\n", "\\n")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        return json.dumps(event, ensure_ascii=False, default=str)


def logging_config(log_format: str, level: str) -> dict:
    """The LOGGING dict for settings, and for gunicorn's own loggers (`touchbase serve`)."""
    if log_format not in FORMATS:
        raise ImproperlyConfigured(
            f"TOUCHBASE_LOG_FORMAT={log_format!r}: expected one of {', '.join(FORMATS)}"
        )
    formatter = "touchbase.logs.JsonFormatter" if log_format == "json" else OneLineFormatter
    handler = {"class": "logging.StreamHandler", "formatter": "touchbase"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"touchbase": {"()": formatter}},
        "handlers": {"console": handler},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # The SDK logs every request with its headers at INFO: noise, and a cost per send.
            "twilio.http_client": {"level": "WARNING"},
            "twilio.async_http_client": {"level": "WARNING"},
            # gunicorn's master and request log, through the same handler.
            "gunicorn.error": {"handlers": ["console"], "level": level, "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }
