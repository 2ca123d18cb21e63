"""Background jobs of the campaigns app (registered when the app is ready)."""

from __future__ import annotations

from typing import Any

from shebao.jobs.registry import job_handler
from shebao.jobs.services import Progress

PHASE_APPLY = "campaigns.phase_apply"


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
