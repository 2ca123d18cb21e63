from django.db.models import QuerySet

from shebao.accounts.roles import Role
from shebao.jobs.models import Job

CENTRE_ROLES = (Role.CENTRE_SUPERVISOR, Role.AUDITOR, Role.CENTRE_CLERK)


def jobs_visible_to(user) -> QuerySet[Job]:  # type: ignore[no-untyped-def]
    """Centre roles see the jobs started by anyone of their own region (titles and results can name
    people); everyone else only the jobs they started."""
    qs = Job.objects.all()
    if user.is_superuser:
        return qs
    if user.role in CENTRE_ROLES and user.region_id:
        return qs.filter(created_by__region_id=user.region_id)
    return qs.filter(created_by=user)
