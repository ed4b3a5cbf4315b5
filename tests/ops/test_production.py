"""Production mode as a sysadmin meets it: real `touchbase serve`, `check --deploy`, deploy/."""

import json
import logging
import os
import re
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.core.management import get_commands

from tests.ops.processes import Process, touchbase_env, wait_for_http, web_address
from touchbase.logs import JsonFormatter

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def touchbase(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "touchbase", *args], env=env, capture_output=True, text=True
    )


def example_env(tmp_path: Path) -> dict[str, str]:
    """deploy/touchbase.env as systemd reads it, its secret files created under tmp_path."""
    values = {}
    for line in (DEPLOY / "touchbase.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    for name, value in list(values.items()):
        if name.endswith("_FILE"):
            secret = tmp_path / Path(value).name
            secret.write_text("x7-" + "Qz9w" * 15)
            values[name] = str(secret)
    values["TOUCHBASE_VAR_DIR"] = str(tmp_path)
    # Nothing else from the test run's environment: systemd passes only this file.
    return {"PATH": os.environ["PATH"], **values}


def test_serve_with_debug_off_serves_pages_and_static_files_with_no_demo_account(tmp_path):
    env = touchbase_env(tmp_path)
    assert touchbase("migrate", "--verbosity=0", env=env).returncode == 0
    addr, base = web_address()
    serve = Process(
        ["serve", "--bind", addr], {**env, "TOUCHBASE_LOG_FORMAT": "json"}, tmp_path / "serve.log"
    )
    try:
        _, headers, body = wait_for_http(f"{base}/accounts/login/", serve)
        css = re.search(r'href="(/static/web/app\.[0-9a-f]{12}\.css)"', body.decode()).group(1)
        with urllib.request.urlopen(f"{base}{css}") as response:
            assert response.status == 200
            assert "max-age=315360000" in response.headers["Cache-Control"]  # hashed: forever
        script = re.search(
            r'src="(/static/vendor/htmx/htmx\.min\.[0-9a-f]{12}\.js)"', body.decode()
        )
        gzip = urllib.request.Request(
            f"{base}{script.group(1)}", headers={"Accept-Encoding": "gzip"}
        )
        with urllib.request.urlopen(gzip) as response:
            assert response.headers["Content-Encoding"] == "gzip"
    finally:
        serve.stop()
    assert headers["Server"] == "gunicorn"
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"].split("style-src-attr")[0]
    assert headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    with sqlite3.connect(tmp_path / "touchbase.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM tenancy_user").fetchone() == (0,)
    # One JSON object per line, the request log included.
    events = [json.loads(line) for line in serve.output().splitlines() if line.startswith("{")]
    requests = [e["message"] for e in events if e["logger"] == "gunicorn.access"]
    assert any('"GET /accounts/login/ HTTP/1.1" 200' in message for message in requests)


@pytest.mark.parametrize("missing", ["TOUCHBASE_SECRET_KEY", "TOUCHBASE_ALLOWED_HOSTS"])
@pytest.mark.parametrize("command", ["serve", "up", "worker"])
def test_debug_off_refuses_to_start_without_an_explicit_setting(tmp_path, missing, command):
    env = touchbase_env(tmp_path)
    del env[missing]

    result = touchbase(command, env=env)

    assert result.returncode == 2
    assert f"{missing} is not set and TOUCHBASE_DEBUG is off" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_wsgi_app_refuses_too(tmp_path):
    env = touchbase_env(tmp_path)
    del env["TOUCHBASE_SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "-c", "import touchbase.wsgi"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "TOUCHBASE_SECRET_KEY is not set" in result.stderr


def test_check_deploy_passes_with_the_example_production_env(tmp_path):
    result = touchbase("check", "--deploy", "--fail-level", "WARNING", env=example_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_when_the_public_url_is_plain_http(tmp_path):
    env = {**example_env(tmp_path), "TOUCHBASE_PUBLIC_BASE_URL": "http://reviews.example.com"}
    result = touchbase("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr


SECURITY_SETTINGS = [
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_PROXY_SSL_HEADER",
]


def security_settings(env: dict[str, str]) -> dict:
    code = (
        "from django.conf import settings; import json; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {SECURITY_SETTINGS!r}}}))"
    )
    result = touchbase("shell", "--no-imports", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_an_https_public_url_turns_transport_security_on_and_each_can_be_turned_off(tmp_path):
    https = {"TOUCHBASE_PUBLIC_BASE_URL": "https://reviews.example.com"}
    on = security_settings(touchbase_env(tmp_path, **https, TOUCHBASE_TRUSTED_PROXY_HOPS="1"))
    assert on == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
    }
    overridden = security_settings(
        touchbase_env(tmp_path, **https, TOUCHBASE_SSL_REDIRECT="false", TOUCHBASE_HSTS_SECONDS="0")
    )
    assert overridden["SECURE_SSL_REDIRECT"] is False and overridden["SECURE_HSTS_SECONDS"] == 0
    # No proxy declared: a client's X-Forwarded-Proto is not believed.
    assert overridden["SECURE_PROXY_SSL_HEADER"] is None
    plain = security_settings(touchbase_env(tmp_path))
    assert not any(plain.values())


def test_the_systemd_units_run_real_touchbase_commands_with_the_example_env():
    commands = get_commands()
    for unit in ("touchbase-web.service", "touchbase-worker.service"):
        text = (DEPLOY / unit).read_text()
        assert "EnvironmentFile=/etc/touchbase/touchbase.env" in text
        for line in re.findall(r"^Exec\w+=(.+)$", text, re.M):
            program, subcommand, *_ = line.split()
            assert program == "/opt/touchbase/.venv/bin/touchbase"
            assert subcommand in commands, f"{unit}: `touchbase {subcommand}` does not exist"


def test_no_template_carries_inline_script():
    templates = [p for p in (ROOT / "touchbase").rglob("templates/**/*.html")]
    assert templates
    for template in templates:
        html = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag, f"{template}: inline <script> (CSP allows only files)"
        assert not re.search(r"\son[a-z]+=", html), f"{template}: inline event handler"
        assert "javascript:" not in html, template


def test_a_json_log_line_keeps_its_traceback_on_the_same_line():
    formatter = JsonFormatter()
    try:
        raise ValueError("provider said no")
    except ValueError:
        record = logging.LogRecord(
            "touchbase.delivery", logging.ERROR, __file__, 1, "send %s failed", (7,), sys.exc_info()
        )
    line = formatter.format(record)
    assert "\n" not in line
    event = json.loads(line)
    assert event["message"] == "send 7 failed" and event["level"] == "ERROR"
    assert "ValueError: provider said no" in event["exception"]


def test_an_unknown_log_format_stops_the_process_naming_the_variable(tmp_path):
    result = touchbase("check", env=touchbase_env(tmp_path, TOUCHBASE_LOG_FORMAT="xml"))
    assert result.returncode != 0
    assert "TOUCHBASE_LOG_FORMAT='xml': expected one of plain, json" in result.stderr
