"""Demo accounts for the embedded mode (`make run`) and the browser tests."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from . import second_factor
from .models import User
from .roles import ADMIN_SITE_ROLES, Role, sync_role_groups


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    roles: tuple[Role, ...]
    unit: str = ""


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("enterprise", "王芳（衡阳湘南跨境贸易有限公司）", (Role.APPLICANT,)),
    DemoAccount("enterprise2", "李强（衡阳雁城电子商务有限公司）", (Role.APPLICANT,)),
    # Its enterprise waits for the Bureau of Commerce's verification (the queue's demo).
    DemoAccount("enterprise3", "赵新（衡阳蒸湘新创跨境科技有限公司）", (Role.APPLICANT,)),
    # Disputes who administers enterprise2's enterprise (the queue's 争议 tab).
    DemoAccount("disputer", "孙敏（衡阳雁城电子商务有限公司经办人）", (Role.APPLICANT,)),
    DemoAccount("commerce", "张伟（市商务局）", (Role.COMMERCE_REVIEWER,)),
    DemoAccount("commerce2", "刘洋（市商务局）", (Role.COMMERCE_REVIEWER,)),
    DemoAccount("finance", "陈静（市财政局）", (Role.FINANCE_REVIEWER, Role.DISBURSEMENT_OFFICER)),
    DemoAccount("finance2", "杨帆（市财政局）", (Role.FINANCE_REVIEWER, Role.DISBURSEMENT_OFFICER)),
    DemoAccount("registrar", "赵敏（市商务局分管领导）", (Role.APPROVAL_REGISTRAR,)),
    DemoAccount("auditor", "周立（市审计局）", (Role.AUDITOR,)),
    DemoAccount("supervisor", "钱程（市财政局监督检查科）", (Role.FINANCE_SUPERVISOR,)),
    DemoAccount("sysadmin", "吴昊（信息中心）", (Role.SYSTEM_ADMINISTRATOR,)),
    DemoAccount("security", "郑红（信息中心安全管理员）", (Role.SECURITY_ADMINISTRATOR,)),
    DemoAccount("security2", "冯刚（信息中心安全管理员）", (Role.SECURITY_ADMINISTRATOR,)),
    DemoAccount("auditadmin", "何琳（信息中心安全审计员）", (Role.AUDIT_ADMINISTRATOR,)),
    DemoAccount("policyadmin", "孙丽（市商务局政策科）", (Role.POLICY_ADMINISTRATOR,)),
)


@transaction.atomic
def seed_accounts(password: str | None = None) -> list[User]:
    """Create or refresh the demo accounts (idempotent): password, names and roles."""
    from django.contrib.auth.models import Group

    sync_role_groups()
    password = password or settings.DEMO_PASSWORD
    users = []
    for account in DEMO_ACCOUNTS:
        user, _created = User.objects.get_or_create(username=account.username)
        user.full_name = account.full_name
        user.email = f"{account.username}@demo.hengyang-cbec.invalid"
        user.unit = account.unit
        user.is_staff = any(role in ADMIN_SITE_ROLES for role in account.roles)
        user.is_superuser = False
        if not user.check_password(password):
            user.set_password(password)
        user.save()
        user.groups.set(Group.objects.filter(name__in=[role.value for role in account.roles]))
        if second_factor.required_for(user):
            # A published seed, so `manage.py demo_otp` prints the code (never in production).
            second_factor.seed_demo_device(user)
        users.append(user)
    return users
