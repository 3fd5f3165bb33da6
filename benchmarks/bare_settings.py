"""The portal's settings, with the bare reference views mounted under /bare/ (benchmarks only).

The bare views run in the same gunicorn, behind the same middleware, with the same session: the
ratio between a portal page and its bare twin is the portal's own overhead.
"""

from hengyang_cbec.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.bare_urls"
