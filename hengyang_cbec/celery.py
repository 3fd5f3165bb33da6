"""The Celery application.

Configuration lives in settings (CELERY_* names). Without REDIS_URL, tasks run eagerly in the
process that enqueues them; services always enqueue from transaction.on_commit, so in both modes a
task only ever sees committed data.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hengyang_cbec.settings")

app = Celery("hengyang_cbec")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
