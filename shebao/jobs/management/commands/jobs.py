from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shebao.jobs.models import Job
from shebao.jobs.services import job_resume_stale, job_run


class Command(BaseCommand):
    help = "后台任务：list 列出；resume 重新执行中断的任务；run ID 在本进程内执行一个任务"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["list", "resume", "run"])
        parser.add_argument("job_id", nargs="?", type=int)
        parser.add_argument("--older-than-minutes", type=int, default=5)

    def handle(self, *args: Any, **opts: Any) -> None:
        action = opts["action"]
        if action == "list":
            for job in Job.objects.order_by("-id")[:50]:
                self.stdout.write(f"#{job.pk}\t{job.get_state_display()}\t{job.percent}%\t{job.kind}\t{job.title}\t{job.message}")
        elif action == "resume":
            ids = job_resume_stale(older_than=timedelta(minutes=opts["older_than_minutes"]))
            self.stdout.write(f"重新排队 {len(ids)} 个中断的任务" + (f"：{ids}" if ids else ""))
        else:
            if not opts["job_id"]:
                raise CommandError("run 需要任务编号")
            job = job_run(opts["job_id"])
            self.stdout.write(f"#{job.pk} {job.get_state_display()} {job.message}")
            if job.state != Job.State.SUCCEEDED:
                raise CommandError(job.message)
