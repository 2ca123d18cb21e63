"""Starting, running and resuming jobs."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from shebao.audit import actions
from shebao.audit.services import audit_record
from shebao.core.errors import DomainError
from shebao.jobs.models import Job
from shebao.jobs.registry import get_handler

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(minutes=5)


class Progress:
    """Handed to a handler: the job, and a throttled way to report progress."""

    def __init__(self, job: Job):
        self.job = job
        self._last = timezone.now()

    @property
    def params(self) -> dict[str, Any]:
        return self.job.params

    def set_total(self, total: int) -> None:
        self.job.total = total
        Job.objects.filter(pk=self.job.pk).update(total=total, heartbeat_at=timezone.now())

    def advance(self, done: int, message: str = "", *, force: bool = False) -> None:
        self.job.done = done
        if message:
            self.job.message = message[:500]
        now = timezone.now()
        if force or (now - self._last).total_seconds() >= 0.5:
            self._last = now
            # Progress is written outside the handler's transaction when possible, so pages see it move.
            Job.objects.filter(pk=self.job.pk).update(done=done, message=self.job.message, heartbeat_at=now)


def job_start(*, kind: str, actor: Any, title: str, params: dict[str, Any] | None = None, input_file: str = "") -> Job:
    """Create a job and queue it after commit; with SHEBAO_JOBS_INLINE it runs right after commit instead."""
    get_handler(kind)  # fail now, not in the worker, on an unknown kind
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind,
            title=title,
            created_by=actor if getattr(actor, "pk", None) else None,
            params=params or {},
            input_file=input_file,
        )
        audit_record(actor=actor, action=actions.JOB_START, obj=job, new={"kind": kind, "params": params or {}})
        transaction.on_commit(lambda: _dispatch(job.pk))
    return job


def _dispatch(job_id: int) -> None:
    if getattr(settings, "SHEBAO_JOBS_INLINE", False):
        job_run(job_id)
        return
    from shebao.jobs.tasks import run_job

    run_job.enqueue(job_id)


def job_run(job_id: int) -> Job:
    """Run a job to the end in this process. Safe to call again for a job that crashed or was left running."""
    claimed = Job.objects.filter(pk=job_id).exclude(state=Job.State.SUCCEEDED)
    now = timezone.now()
    claimed.update(state=Job.State.RUNNING, started_at=now, heartbeat_at=now, finished_at=None)
    job = Job.objects.get(pk=job_id)
    if job.state == Job.State.SUCCEEDED:
        return job
    Job.objects.filter(pk=job_id).update(attempts=job.attempts + 1)
    handler = get_handler(job.kind)
    progress = Progress(job)
    try:
        result = handler(progress)
    except DomainError as exc:
        Job.objects.filter(pk=job_id).update(
            state=Job.State.FAILED, finished_at=timezone.now(), message=exc.message[:500]
        )
    except Exception as exc:
        log.exception("job %s failed", job_id)
        Job.objects.filter(pk=job_id).update(
            state=Job.State.FAILED, finished_at=timezone.now(), message=f"系统错误：{type(exc).__name__}: {exc}"[:500]
        )
    else:
        Job.objects.filter(pk=job_id).update(
            state=Job.State.SUCCEEDED,
            finished_at=timezone.now(),
            done=progress.job.done if progress.job.total == 0 else progress.job.total,
            result=result or {},
            message=(progress.job.message or "完成")[:500],
        )
    return Job.objects.get(pk=job_id)


def job_resume_stale(*, older_than: timedelta = STALE_AFTER) -> list[int]:
    """Re-run jobs whose worker died: running with an old heartbeat. Returns the ids requeued."""
    cutoff = timezone.now() - older_than
    ids = list(
        Job.objects.filter(state=Job.State.RUNNING, heartbeat_at__lt=cutoff).values_list("pk", flat=True)
    )
    for job_id in ids:
        Job.objects.filter(pk=job_id, state=Job.State.RUNNING).update(state=Job.State.QUEUED)
        _dispatch(job_id)
    return ids
