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
