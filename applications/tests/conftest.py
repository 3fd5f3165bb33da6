import pytest

from .factories import EnterpriseFactory, member_of


@pytest.fixture
def enterprise(catalogue):
    return EnterpriseFactory()


@pytest.fixture
def member(enterprise):
    """The applicant persona: the administrator of `enterprise`."""
    return member_of(enterprise, "member")


@pytest.fixture
def other_enterprise(catalogue):
    return EnterpriseFactory()


@pytest.fixture
def other_member(other_enterprise):
    """A member of another enterprise: sees none of `enterprise`'s objects."""
    return member_of(other_enterprise, "stranger")
