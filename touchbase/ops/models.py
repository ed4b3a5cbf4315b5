"""What operators watch: one heartbeat row per worker process (`/metrics`, `/healthz`)."""

from django.db import models


class WorkerHeartbeat(models.Model):
    """A worker's last sign of life. The table holds one row per worker process seen in the
    last day (older rows are pruned as heartbeats are recorded)."""

    owner = models.CharField(max_length=100, unique=True)  # the worker's lease owner name
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.owner} seen {self.seen_at:%Y-%m-%d %H:%M:%S}"
