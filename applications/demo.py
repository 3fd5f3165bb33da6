"""Demo enterprises and applications for the embedded mode (`make run`) and browser tests."""

from __future__ import annotations

from functools import cache

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from hengyang_cbec.accounts.models import User
from policies.models import Place
from policies.services import current_catalogue

from . import enterprises, services
from .models import Application, Enterprise, EnterpriseClaim, EnterpriseDocument, Membership

DEMO_ENTERPRISES = (
    {
        "username": "enterprise",
        "uscc": "91430400MA4L1A2B3Y",
        "name": "衡阳湘南跨境贸易有限公司",
        "district": "yanfeng",
        "registered_address": "衡阳市雁峰区白沙洲工业园跨境电商产业园 3 栋 201 室",
        "legal_representative": "王建国",
        "contact_name": "王芳",
        "contact_phone": "13807340001",
        "bank_name": "中国工商银行衡阳分行",
        "bank_account": "0622020903001234567",
        "customs_code": "4304960001",
        "verified": True,
    },
    {
        "username": "enterprise2",
        "uscc": "91430400MA4PXQ8K55",
        "verified": True,
        "name": "衡阳雁城电子商务有限公司",
        "district": "zhengxiang",
        "registered_address": "衡阳市蒸湘区解放西路 88 号",
        "legal_representative": "李明",
        "contact_name": "李强",
        "contact_phone": "13907340002",
        "bank_name": "中国建设银行衡阳分行",
        "bank_account": "43050166000000012345",
        "customs_code": "4304960002",
    },
    {
        # Registered with its documents, waiting for the Bureau of Commerce (walk the queue as
        # `commerce`).
        "username": "enterprise3",
        "uscc": "91430400MA4QJ7XT1R",
        "name": "衡阳蒸湘新创跨境科技有限公司",
        "district": "zhengxiang",
        "registered_address": "衡阳市蒸湘区华新开发区长丰大道 16 号",
        "legal_representative": "赵国强",
        "contact_name": "赵新",
        "contact_phone": "13707340003",
        "bank_name": "中国农业银行衡阳分行",
        "bank_account": "18500101040012345",
        "customs_code": "",
        "verified": False,
    },
)
DEMO_VERIFIER = "commerce2"
# Someone who says she, not enterprise2's administrator, represents 衡阳雁城电子商务有限公司: a
# dispute in the bureau's queue.
DEMO_DISPUTE = {
    "username": "disputer",
    "enterprise": DEMO_ENTERPRISES[1],
    "statement": (
        "本人为公司法定代表人李明授权的经办人，原平台管理员李强已离职，请将企业管理员变更为本人。"
    ),
}


@cache
def demo_document(title: str, body: str) -> bytes:
    """A demo business licence or authorisation letter as a small real PDF."""
    from weasyprint import HTML

    return HTML(string=f"<h1>{title}</h1><p>{body}</p><p>（演示材料）</p>").write_pdf()


def _documents(spec: dict, holder: str) -> dict:
    licence = demo_document(
        "营业执照",
        f"名称：{spec['name']}<br>统一社会信用代码：{spec['uscc']}<br>"
        f"法定代表人：{spec['legal_representative']}",
    )
    letter = demo_document(
        "授权委托书",
        f"兹授权 {holder} 作为{spec['name']}在衡阳市跨境电商补贴平台的企业管理员。<br>"
        f"法定代表人（签字）：{spec['legal_representative']}",
    )
    return {
        EnterpriseDocument.Kind.LICENCE: SimpleUploadedFile("营业执照.pdf", licence),
        EnterpriseDocument.Kind.AUTHORISATION: SimpleUploadedFile("授权委托书.pdf", letter),
    }


@cache
def demo_pdf() -> bytes:
    """A small real PDF (rendered by WeasyPrint), used as demo evidence."""
    from weasyprint import HTML

    return HTML(string="<h1>Demo evidence</h1><p>衡阳跨境电商 示例材料</p>").write_pdf()


def _place(code: str) -> Place:
    return Place.objects.filter(code=code).first() or Place.objects.first()


@transaction.atomic
def seed() -> None:
    """Create the demo enterprises and a few applications (idempotent)."""
    for spec in DEMO_ENTERPRISES:
        user = User.objects.get(username=spec["username"])
        enterprise = Enterprise.objects.filter(uscc=spec["uscc"]).first()
        if enterprise is None:
            skip = {"username", "uscc", "district", "verified"}
            data = {k: v for k, v in spec.items() if k not in skip}
            data.update(
                entity_type="enterprise",
                district=_place(spec["district"]),
                **dict.fromkeys(Enterprise.GENERAL_FACTS, True),
            )
            claim = enterprises.enterprise_register(
                user=user,
                uscc=spec["uscc"],
                data=data,
                documents=_documents(spec, user.full_name.split("（")[0]),
            )
            enterprise = claim.enterprise
            # Scans run after commit; the demo files are known to be clean.
            EnterpriseDocument.objects.filter(claim=claim).update(
                scan_state="clean", scan_detail="demo"
            )
            if spec["verified"]:
                from reviews.services.enterprises import claim_verify

                claim_verify(user=User.objects.get(username=DEMO_VERIFIER), claim=claim)
        elif not Membership.objects.filter(user=user, enterprise=enterprise).exists():
            Membership.objects.create(
                user=user,
                enterprise=enterprise,
                role=Membership.Role.ADMINISTRATOR,
                status=Membership.Status.ACTIVE,
            )
    _seed_dispute()
    first = Enterprise.objects.get(uscc=DEMO_ENTERPRISES[0]["uscc"])
    user = User.objects.get(username="enterprise")
    if not Application.objects.filter(enterprise=first, measure__code="M16").exists():
        draft = services.application_start(
            user=user, enterprise=first, measure_code="M16", year=2026
        )
        services.application_autosave(
            user=user, application=draft, values={"social_security_paid_cny": "480000"}
        )
    if not Application.objects.filter(enterprise=first, measure__code="M06").exists():
        application = services.application_start(
            user=user, enterprise=first, measure_code="M06", year=2026
        )
        services.application_autosave(
            user=user,
            application=application,
            values={
                "promotion_expenses_cny": "160000",
                "new_store": "on",
                "settlement_fee_cny": "30000",
            },
        )
        labels = current_catalogue().evidence_types
        for code in application.measure.evidence_types:
            # Named as an enterprise names its scans: 营业执照.pdf, not business_licence.pdf.
            name = labels.get(code, {}).get("label_zh", code).split("（")[0]
            services.evidence_add(
                user=user,
                application=application,
                document_type=code,
                upload=SimpleUploadedFile(f"{name}.pdf", demo_pdf(), "application/pdf"),
            )
        application.refresh_from_db()
        # Scans run after commit; the demo files are known to be clean.
        application.evidence.update(scan_state="clean", scan_detail="demo")
        services.application_submit(
            user=user,
            application=application,
            signer_name="王芳",
            declared=True,
            version=application.version,
        )


def _seed_dispute() -> None:
    user = User.objects.get(username=DEMO_DISPUTE["username"])
    if EnterpriseClaim.objects.filter(claimant=user).exists():
        return
    spec = DEMO_DISPUTE["enterprise"]
    data = {k: v for k, v in spec.items() if k not in {"username", "uscc", "district", "verified"}}
    data.update(
        entity_type="enterprise",
        district=_place(spec["district"]),
        **dict.fromkeys(Enterprise.GENERAL_FACTS, True),
    )
    claim = enterprises.enterprise_register(
        user=user,
        uscc=spec["uscc"],
        data=data,
        documents=_documents(spec, user.full_name.split("（")[0]),
        statement=DEMO_DISPUTE["statement"],
    )
    EnterpriseDocument.objects.filter(claim=claim).update(scan_state="clean", scan_detail="demo")
