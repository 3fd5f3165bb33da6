"""Each disbursement line gets a unique reference the bank's result file echoes."""

from django.db import migrations, models


def number_existing_lines(apps, schema_editor):
    line_model = apps.get_model("reviews", "DisbursementLine")
    for line in line_model.objects.select_related("batch").iterator(chunk_size=2000):
        line.line_reference = f"{line.batch.number}-{line.sequence:05d}"
        line.save(update_fields=["line_reference"])


class Migration(migrations.Migration):
    dependencies = [("reviews", "0005_assessment_reason")]

    operations = [
        migrations.AddField(
            model_name="disbursementline",
            name="line_reference",
            field=models.CharField(max_length=30, null=True, verbose_name="line reference"),
        ),
        migrations.RunPython(number_existing_lines, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="disbursementline",
            name="line_reference",
            field=models.CharField(max_length=30, unique=True, verbose_name="line reference"),
        ),
    ]
