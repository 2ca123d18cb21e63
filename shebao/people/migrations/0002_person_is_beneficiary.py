"""Person.is_beneficiary: the person has at least one benefit category (filled here from the categories).

The comparison reads its beneficiaries by this flag instead of a semi-join on people_personcategory
(bench/README.md, comparison); the people app keeps it whenever categories are written.
"""

from django.db import migrations, models

FILL = (
    "UPDATE people_person SET is_beneficiary = TRUE"
    " WHERE id IN (SELECT person_id FROM people_personcategory)"
)


class Migration(migrations.Migration):

    dependencies = [
        ("people", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="person",
            name="is_beneficiary",
            field=models.BooleanField(db_default=False, default=False, editable=False, verbose_name="有待遇类别"),
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop, elidable=False),
    ]
