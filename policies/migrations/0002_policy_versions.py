"""Policy versions: parameters, interpretations and overlap groups belong to a version, and
measure, parameter, interpretation and overlap-group codes are unique per version only.

Existing rows belong to the version they were loaded with (a parameter: its measure's version;
otherwise the only version a database held before this migration).
"""

import django.db.models.deletion
from django.db import migrations, models


def assign_versions(apps, schema_editor):
    Policy = apps.get_model("policies", "Policy")
    Parameter = apps.get_model("policies", "Parameter")
    Interpretation = apps.get_model("policies", "Interpretation")
    OverlapGroup = apps.get_model("policies", "OverlapGroup")
    latest = Policy.objects.order_by("-published_on").first()
    if latest is None:
        return
    for parameter in Parameter.objects.select_related("measure"):
        parameter.policy_id = parameter.measure.policy_id if parameter.measure_id else latest.pk
        parameter.save(update_fields=["policy"])
    Interpretation.objects.update(policy=latest)
    OverlapGroup.objects.update(policy=latest)


class Migration(migrations.Migration):
    dependencies = [("policies", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="parameter",
            name="policy",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="parameters",
                to="policies.policy",
                verbose_name="policy version",
            ),
        ),
        migrations.AddField(
            model_name="interpretation",
            name="policy",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="interpretations",
                to="policies.policy",
                verbose_name="policy version",
            ),
        ),
        migrations.AddField(
            model_name="overlapgroup",
            name="policy",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="overlap_groups",
                to="policies.policy",
                verbose_name="policy version",
            ),
        ),
        migrations.RunPython(assign_versions, migrations.RunPython.noop),
    ]
