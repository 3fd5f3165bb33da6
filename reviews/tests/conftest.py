from __future__ import annotations

import pytest

from .factories import Crew, make_allocation, make_application, make_enterprise, make_member


@pytest.fixture
def crew(catalogue):
    return Crew()


@pytest.fixture
def enterprise(catalogue):
    return make_enterprise("衡阳湘南跨境贸易有限公司")


@pytest.fixture
def member(enterprise):
    return make_member(enterprise, "member")


@pytest.fixture
def submitted(enterprise, member):
    """A submitted M05 application: declared export USD 600,000 (cap CNY 100,000)."""
    return make_application(enterprise=enterprise, submitter=member)


@pytest.fixture
def allocation(catalogue):
    return make_allocation("5000000")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the policy catalogue once for the session (tests roll back around it)."""
    with django_db_blocker.unblock():
        from policies.models import Policy
        from policies.services import bump_catalogue_version, load_catalogue
        from tests.fixtures import catalogue_files

        if not Policy.objects.exists():
            load_catalogue(catalogue_files())
            bump_catalogue_version()


@pytest.fixture(autouse=True)
def _english():
    """Messages are compared in their English source form."""
    from django.utils import translation

    with translation.override("en"):
        yield
