"""Forms issued before a never-downloaded form had a deadline get one: the 15th of the month after issue.

(Without the holiday calendar: forms_generate uses services.form_deadline for new forms.)
"""

import datetime as dt

from django.db import migrations


def backfill(apps, schema_editor):  # type: ignore[no-untyped-def]
    VerificationForm = apps.get_model("switching", "VerificationForm")
    for form in VerificationForm.objects.filter(deadline__isnull=True).only("pk", "generated_at").iterator():
        issued = form.generated_at.date()
        year, month = (issued.year + 1, 1) if issued.month == 12 else (issued.year, issued.month + 1)
        VerificationForm.objects.filter(pk=form.pk).update(deadline=dt.date(year, month, 15))


class Migration(migrations.Migration):
    dependencies = [("switching", "0006_clerk_check")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
