"""Browser tests: Playwright for Python driving Debian's chromium (never Playwright's own
browser download) against pytest-django's live server. Each journey saves a screenshot
under test-results/."""

import importlib
import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are ordinary synchronous code, so Django's async guard is relaxed.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "a-long-test-password-1"


def _is_e2e(item) -> bool:
    return "tests/e2e/" in str(item.path).replace(os.sep, "/")


def pytest_collection_modifyitems(config, items):
    """Browser journeys run last: each ends by emptying the database (a transactional test's
    flush), which no other test should have to recover from."""
    for item in items:
        if _is_e2e(item):
            item.add_marker(pytest.mark.e2e)
    items.sort(key=_is_e2e)  # stable: everything else keeps pytest-django's order


# Rows every database has after `migrate` (data migrations): (module, its function, a model
# holding the rows).
DATA_MIGRATIONS = (
    (
        "touchbase.campaigns.migrations.0002_system_templates_and_presets",
        "create",
        "campaigns.Campaign",
    ),
    ("touchbase.delivery.migrations.0003_send_window_rules", "create", "delivery.SendWindowRule"),
    ("touchbase.delivery.migrations.0005_area_code_states", "fill", "delivery.AreaCodeState"),
)


@pytest.fixture(autouse=True)
def migration_data(transactional_db):
    """The journeys are transactional tests with serialized_rollback, like the rest of the
    suite; with SQLite's in-memory test database shared with the live server's thread that
    restore did not bring back the data migrations' rows after the first journey, so put back
    whatever is missing (presets, system templates, send-window rules, area codes)."""
    from django.apps import apps

    for module, function, model in DATA_MIGRATIONS:
        if not apps.get_model(model).objects.exists():
            getattr(importlib.import_module(module), function)(apps, None)
    # The system templates' Spanish texts (an idempotent update of the rows above).
    importlib.import_module("touchbase.campaigns.migrations.0004_spanish_text").forward(apps, None)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}; `make test` installs it with apt-get")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def screenshots(request) -> Path:
    directory = Path(request.config.rootpath) / "test-results" / "e2e"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def page(browser, live_server, screenshots, request):
    """A fresh browser context on the live server; a failing test leaves a screenshot too."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Anything the Content Security Policy blocked is a page that does not work as written.
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and errors.append(message.text),
    )
    yield page
    if getattr(request.node, "rep_call", None) and request.node.rep_call.failed:
        page.screenshot(path=screenshots / f"FAILED-{request.node.name}.png", full_page=True)
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def log_in(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


@pytest.fixture
def owner(live_server):
    """A signed-up owner with a business set up far enough to send."""
    from touchbase.tenancy.services import create_owner, update_business_settings

    signed = create_owner(
        email="owner@brightair.test", password=PASSWORD, business_name="Bright Air"
    )
    update_business_settings(
        business=signed.business,
        review_url="https://g.page/r/bright-air/review",
        postal_address="120 Palm Avenue, Miami, FL 33101",
        time_zone="America/New_York",
    )
    return signed
