from django.db.models import QuerySet

from shebao.accounts.roles import Role
from shebao.jobs.models import Job


def jobs_visible_to(user) -> QuerySet[Job]:  # type: ignore[no-untyped-def]
    """Centre roles see every job; others only the jobs they started."""
    qs = Job.objects.all()
    if user.is_superuser or user.role in (Role.CENTRE_SUPERVISOR, Role.AUDITOR, Role.CENTRE_CLERK):
        return qs
    return qs.filter(created_by=user)
