"""A web import waiting for, or being run by, the worker (`touchbase.imports.background`).

The uploaded file is kept in the row itself (at most 20 MB, the upload limit), not on disk:
web and worker processes may run on different machines and share only the database. The
bytes are dropped as soon as the import ends; the per-row problems stay (for the error
report) until the import is pruned, KEEP_DAYS after it ended.
"""

from django.db import models


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Waiting for the worker"
    RUNNING = "running", "Importing"
    DONE = "done", "Imported"
    FAILED = "failed", "Stopped"


class Import(models.Model):
    business = models.ForeignKey("tenancy.Business", on_delete=models.CASCADE)
    kind = models.CharField(max_length=20)  # "jobs" or "customers"
    enroll = models.BooleanField(default=True)
    filename = models.CharField(max_length=255, blank=True)
    file = models.BinaryField(editable=False)
    # The header's columns as the preview read them, in the file's order (a list: jsonb
    # would not keep a mapping's order): [[header as written, touchbase column], ...].
    columns = models.JSONField(default=list)
    recorded_by = models.CharField(max_length=254, blank=True)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    reason = models.TextField(blank=True)  # why it stopped, for the owner
    # Progress, written in the same transaction as each chunk: a resumed import starts
    # after `last_row` with these counts.
    rows_expected = models.PositiveIntegerField(default=0)  # lines in the file, minus header
    rows = models.PositiveIntegerField(default=0)
    last_row = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    enrolled = models.PositiveIntegerField(default=0)
    not_enrolled = models.JSONField(default=dict)
    # The runner's lease: another worker takes over an import whose lease ran out.
    runner = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "lease_expires_at"], name="import_to_run")]

    def __str__(self) -> str:
        return f"import of {self.filename or self.kind} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)

    @property
    def percent(self) -> int:
        if self.finished:
            return 100
        return min(99, round(100 * self.rows / self.rows_expected)) if self.rows_expected else 0


class ImportProblem(models.Model):
    """One bad field of one row, for the downloadable error report."""

    run = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="problems")
    row = models.PositiveIntegerField()  # as in a spreadsheet: 1 is the header
    column = models.CharField(max_length=40, blank=True)
    reason = models.TextField()
    values = models.JSONField(default=list)  # the row's cells, in the report's column order

    class Meta:
        indexes = [models.Index(fields=["run", "row"], name="import_problem_by_row")]

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.reason}"
