"""Factories and personas shared by the apps' tests."""

from __future__ import annotations

import factory
from django.contrib.auth.models import Group

from hengyang_cbec.accounts.models import User
from hengyang_cbec.accounts.roles import Role, sync_role_groups

PASSWORD = "correct-horse-battery-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    full_name = factory.Faker("name", locale="zh_CN")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        self.save()
        if not create or not extracted:
            return
        if not Group.objects.filter(name=Role.APPLICANT.value).exists():
            sync_role_groups()
        self.groups.add(*Group.objects.filter(name__in=[Role(r).value for r in extracted]))


def make_user(*roles: Role, **fields) -> User:
    return UserFactory(roles=list(roles), **fields)
