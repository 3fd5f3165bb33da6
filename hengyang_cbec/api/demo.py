"""Demo API keys with published secrets (embedded profile only), so that `make run` can be tried
with curl: one for the government-service platform, one for the bank, one for customs statistics."""

from __future__ import annotations

from hengyang_cbec.accounts.models import User

from .keys import demo_key
from .models import ApiKey, Scope

# (prefix, secret tail, system, scopes): the secret is hyk_<prefix>_<tail>.
DEMO_KEYS = (
    ("demo0001", "statuses-demo-key-not-secret", "省政务服务平台（演示）", [Scope.READ_STATUSES]),
    (
        "demo0002",
        "payments-demo-key-not-secret",
        "工商银行衡阳分行（演示）",
        [Scope.EXCHANGE_PAYMENTS],
    ),
    (
        "demo0003",
        "statistics-demo-key-not-secret",
        "衡阳海关统计系统（演示）",
        [Scope.IMPORT_STATISTICS],
    ),
)


def seed() -> None:
    security = User.objects.get(username="security")
    for prefix, tail, name, scopes in DEMO_KEYS:
        demo_key(user=security, name=name, scopes=scopes, prefix=prefix, secret_tail=tail)


# What the demo customs system sent: waiting on /staff/statistics/ for a commerce reviewer.
DEMO_PROPOSAL = {
    "uscc": "91430400MA4L1A2B3Y",
    "name": "衡阳湘南跨境贸易有限公司",
    "year": "2025",
    "export_usd": "480000.00",
    "import_usd": "52000.00",
    "customs_office": "衡阳海关",
}


def seed_statistics_proposal() -> None:
    """One statistics import sent through the API by the demo customs key, not yet approved."""
    from reviews.models import StatisticsImport
    from reviews.services.statistics import import_create

    key = ApiKey.objects.get(prefix="demo0003")
    if not StatisticsImport.objects.filter(api_key=key).exists():
        import_create(
            api_key=key, source="customs", rows=[DEMO_PROPOSAL], note="演示：经接口提交的海关统计"
        )
