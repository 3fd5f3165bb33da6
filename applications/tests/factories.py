"""Factories and personas of the applicant's side."""

from __future__ import annotations

import random
from functools import cache

import factory
from django.core.files.uploadedfile import SimpleUploadedFile

from applications.models import Application, Enterprise, Membership
from applications.validators import USCC_ALPHABET, uscc_check_character
from hengyang_cbec.accounts.roles import Role
from policies.models import Measure, Place
from tests.factories import make_user


def make_uscc(seed: int | None = None) -> str:
    rng = random.Random(seed)
    body = "91" + "430400" + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    return body + uscc_check_character(body)


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise

    name = factory.Sequence(lambda n: f"衡阳测试跨境电商有限公司{n}")
    uscc = factory.Sequence(make_uscc)
    entity_type = "enterprise"
    district = factory.LazyFunction(lambda: Place.objects.first())
    registered_address = "衡阳市雁峰区"
    legal_representative = "张三"
    contact_name = "李四"
    contact_phone = "13800000000"
    bank_name = "中国银行衡阳分行"
    bank_account = "0123456789012345678"
    registered_in_hengyang = True
    pays_taxes = True
    independent_legal_person = True
    has_cbec_performance = True
    in_customs_cbec_statistics = True
    # Verified by the Bureau of Commerce unless a test asks for one still waiting.
    verification = Enterprise.Verification.VERIFIED

    class Params:
        pending = factory.Trait(verification=Enterprise.Verification.PENDING)


def member_of(enterprise: Enterprise, username: str, *, admin: bool = True):
    user = make_user(Role.APPLICANT, username=username)
    Membership.objects.create(
        user=user,
        enterprise=enterprise,
        role=Membership.Role.ADMINISTRATOR if admin else Membership.Role.FILER,
        status=Membership.Status.ACTIVE,
    )
    return user


def draft(
    enterprise: Enterprise, user, code: str = "M05", year: int = 2026, **facts
) -> Application:
    return Application.objects.create(
        enterprise=enterprise,
        measure=Measure.objects.get(code=code),
        year=year,
        created_by=user,
        draft_facts={"year": str(year), **{k: str(v) for k, v in facts.items()}},
    )


@cache
def pdf_bytes() -> bytes:
    from applications.demo import demo_pdf

    return demo_pdf()


def pdf_upload(name: str = "evidence.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(), "application/pdf")


def enterprise_data(**overrides) -> dict:
    """An enterprise profile as the registration service takes it."""
    data = {
        "name": "衡阳新创跨境科技有限公司",
        "entity_type": "enterprise",
        "district": Place.objects.first(),
        "registered_address": "衡阳市蒸湘区",
        "legal_representative": "赵国强",
        "contact_name": "赵新",
        "contact_phone": "13912345678",
        "bank_name": "中国农业银行衡阳分行",
        "bank_account": "18500101040012345",
        "customs_code": "",
        **dict.fromkeys(Enterprise.GENERAL_FACTS, True),
    }
    data.update(overrides)
    return data


def register(user, uscc: str | None = None, *, clean: bool = True, **documents):
    """`user` registers (or disputes) a credit code with the two documents; scanned clean."""
    from applications.enterprises import enterprise_register

    claim = enterprise_register(
        user=user,
        uscc=uscc or make_uscc(),
        data=enterprise_data(),
        documents=claim_documents(**documents),
    )
    if clean:
        claim.documents.update(scan_state="clean")
    return claim


def claim_documents(**extra) -> dict:
    """The business licence and the authorisation letter a registration asks for."""
    return {
        "licence": pdf_upload("营业执照.pdf"),
        "authorisation": pdf_upload("授权委托书.pdf"),
        **extra,
    }
