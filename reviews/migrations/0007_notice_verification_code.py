"""Notices are verified by a random code instead of their sequential number."""

from django.db import migrations, models

import reviews.models.notices


def give_every_notice_a_random_code(apps, schema_editor):
    notice_model = apps.get_model("reviews", "Notice")
    for notice in notice_model.objects.iterator(chunk_size=2000):
        notice.verification_code = reviews.models.notices.new_verification_code()
        notice.save(update_fields=["verification_code"])


class Migration(migrations.Migration):
    dependencies = [("reviews", "0006_line_reference")]

    operations = [
        migrations.AddField(
            model_name="notice",
            name="verification_code",
            field=models.CharField(max_length=40, null=True),
        ),
        migrations.RunPython(give_every_notice_a_random_code, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="notice",
            name="verification_code",
            field=models.CharField(
                default=reviews.models.notices.new_verification_code, max_length=40, unique=True
            ),
        ),
    ]
