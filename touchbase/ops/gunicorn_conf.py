"""gunicorn's configuration for `touchbase serve` (loaded as `python:touchbase.ops.gunicorn_conf`).

Only what the command line cannot say: gunicorn's own log lines go through touchbase's
formatter, so `TOUCHBASE_LOG_FORMAT=json` covers the request log too.
"""

from touchbase.env import env
from touchbase.logs import logging_config

logconfig_dict = logging_config(
    env("TOUCHBASE_LOG_FORMAT", "plain"), env("TOUCHBASE_LOG_LEVEL", "INFO")
)
