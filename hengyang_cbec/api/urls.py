from django.urls import path

from . import views
from .api import api

urlpatterns = [
    path("api/", views.reference, name="api_reference"),
    path("api/v1/", api.urls),
    path("staff/security/api-keys/", views.keys, name="api_keys"),
    path("staff/security/api-keys/<int:pk>/revoke/", views.revoke, name="api_key_revoke"),
    path("my/api-tokens/", views.tokens, name="api_tokens"),
    path("my/api-tokens/<int:pk>/revoke/", views.token_revoke, name="api_token_revoke"),
    path("finance/api-results/", views.results, name="api_results"),
    path("finance/api-results/<int:pk>/", views.result_detail, name="api_result"),
]
