from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from hengyang_cbec.accounts.permissions import role_required
from hengyang_cbec.accounts.roles import REVIEW_ROLES, Role, roles_of


@role_required(*REVIEW_ROLES)
def workspace(request: HttpRequest) -> HttpResponse:
    """The staff landing page: the roles this account holds and what each of them does."""
    held = roles_of(request.user)
    roles = [role for role in Role if role.value in held]
    return render(request, "reviews/workspace.html", {"roles": roles})
