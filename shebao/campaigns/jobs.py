"""Background jobs of the campaigns app (registered when the app is ready)."""

from __future__ import annotations

from typing import Any

from shebao.jobs.registry import job_handler
from shebao.jobs.services import Progress

PHASE_APPLY = "campaigns.phase_apply"
PHASE_REFETCH = "campaigns.phase_refetch"


@job_handler(PHASE_APPLY)
def phase_apply_job(progress: Progress) -> dict[str, Any]:
    """New-card applications for one campaign phase; run again after a crash, it skips those made."""
    from shebao.campaigns.models import CampaignPhase
    from shebao.campaigns.services import phase_applications_create

    phase = CampaignPhase.objects.select_related("campaign", "outlet").get(pk=progress.params["phase_id"])
    actor: Any = progress.job.created_by
    made = phase_applications_create(phase=phase, actor=actor, progress=progress)
    progress.job.message = f"{phase}：已申领 {made} 张新卡"
    return {"phase_id": phase.pk, "applications": made}


@job_handler(PHASE_REFETCH)
def phase_refetch_job(progress: Progress) -> dict[str, Any]:
    """再次获取 for every transfer of a phase still waiting for a balance."""
    from shebao.campaigns.models import CampaignPhase
    from shebao.campaigns.services import phase_transfers_refetch

    phase = CampaignPhase.objects.select_related("campaign").get(pk=progress.params["phase_id"])
    actor: Any = progress.job.created_by
    asked, done = phase_transfers_refetch(phase=phase, actor=actor, progress=progress)
    progress.job.message = f"{phase}：已向医保系统再次获取 {asked} 条，{done} 条已转移，{asked - done} 条仍无余额"
    return {"phase_id": phase.pk, "asked": asked, "done": done}
