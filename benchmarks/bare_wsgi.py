"""WSGI entry of the benchmark server: the portal plus the bare views (benchmarks only)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.bare_settings")
application = get_wsgi_application()
