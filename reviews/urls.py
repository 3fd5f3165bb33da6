from django.urls import path

from . import views

app_name = "reviews"

urlpatterns = [
    path("staff/", views.workspace, name="workspace"),
    path("staff/queue/commerce/", views.commerce_queue, name="commerce_queue"),
    path("staff/queue/finance/", views.finance_queue, name="finance_queue"),
    path("staff/queue/registrar/", views.registrar_queue, name="registrar_queue"),
    path("staff/queue/co-review/", views.coreview_queue, name="coreview_queue"),
    path("staff/applications/<int:pk>/", views.review_detail, name="review_detail"),
    path("staff/applications/<int:pk>/take/", views.take, name="take"),
    path("staff/applications/<int:pk>/assign/", views.assign, name="assign"),
    path("staff/applications/<int:pk>/facts/", views.save_facts, name="save_facts"),
    path("staff/applications/<int:pk>/co-review/", views.request_coreview, name="request_coreview"),
    path("staff/applications/<int:pk>/return/", views.return_for_correction, name="return"),
    path("staff/applications/<int:pk>/reject/", views.reject, name="reject"),
    path("staff/applications/<int:pk>/recommend/", views.recommend, name="recommend"),
    path(
        "staff/applications/<int:pk>/return-to-commerce/",
        views.return_to_commerce,
        name="return_to_commerce",
    ),
    path("staff/applications/<int:pk>/commit/", views.commit, name="commit"),
    path("staff/evidence/<int:pk>/", views.evidence_download, name="evidence_download"),
    path("staff/evidence/<int:pk>/inline/", views.evidence_inline, name="evidence_inline"),
    path("staff/co-review/<int:pk>/answer/", views.answer_coreview, name="answer_coreview"),
    path("staff/objections/<int:pk>/resolve/", views.resolve_objection, name="resolve_objection"),
    path("staff/objections/<int:pk>/file/", views.objection_file, name="objection_file"),
    path("staff/registrar/publish/", views.publish_notice, name="publish_notice"),
    path("staff/registrar/close/", views.close_notices, name="close_notices"),
    path("staff/registrar/approve/", views.record_approval, name="record_approval"),
    path("staff/budgets/", views.budgets, name="budgets"),
    path("staff/audit/", views.audit_log, name="audit_log"),
    path("notices/", views.public_notices, name="public_notices"),
    path("notices/<int:pk>/object/", views.lodge_objection, name="lodge_objection"),
]

# Finance (disbursements, exports, payments, reports).
from .finance_urls import urlpatterns as finance_urlpatterns  # noqa: E402

urlpatterns += finance_urlpatterns
