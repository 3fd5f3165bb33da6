"""All URLs of the bureau's side, by stage of the process.

`urlpatterns` form the "reviews" namespace; `notice_urls` the "notices" namespace of the approval
notices (the applicant's and staff's download, staff's list and actions, and the public
verification page the QR code points at), included beside it by the project's urls.
"""

from django.urls import path

from hengyang_cbec.audit.views import audit_log

from .views import (
    budgets,
    dossier,
    enterprises,
    finance,
    forecast,
    notices,
    publicity,
    queues,
    review,
    statistics,
)

app_name = "reviews"

urlpatterns = [
    # Queues
    path("staff/", queues.workspace, name="workspace"),
    path("staff/queue/commerce/", queues.commerce_queue, name="commerce_queue"),
    path("staff/queue/finance/", queues.finance_queue, name="finance_queue"),
    path("staff/queue/registrar/", queues.registrar_queue, name="registrar_queue"),
    path("staff/queue/co-review/", queues.coreview_queue, name="coreview_queue"),
    # Review
    path("staff/applications/<int:pk>/", review.review_detail, name="review_detail"),
    path("staff/applications/<int:pk>/take/", review.take, name="take"),
    path("staff/applications/<int:pk>/assign/", review.assign, name="assign"),
    path("staff/applications/<int:pk>/facts/", review.save_facts, name="save_facts"),
    path(
        "staff/applications/<int:pk>/co-review/",
        review.request_coreview,
        name="request_coreview",
    ),
    path("staff/applications/<int:pk>/return/", review.return_for_correction, name="return"),
    path("staff/applications/<int:pk>/reject/", review.reject, name="reject"),
    path("staff/applications/<int:pk>/recommend/", review.recommend, name="recommend"),
    path(
        "staff/applications/<int:pk>/return-to-commerce/",
        review.return_to_commerce,
        name="return_to_commerce",
    ),
    path("staff/applications/<int:pk>/commit/", review.commit, name="commit"),
    path("staff/evidence/<int:pk>/", review.evidence_download, name="evidence_download"),
    path("staff/evidence/<int:pk>/inline/", review.evidence_inline, name="evidence_inline"),
    path("staff/co-review/<int:pk>/answer/", review.answer_coreview, name="answer_coreview"),
    # Enterprise verification
    path("staff/enterprises/", enterprises.verification_queue, name="verification_queue"),
    path(
        "staff/enterprises/<int:pk>/", enterprises.verification_detail, name="verification_detail"
    ),
    path(
        "staff/enterprises/documents/<int:pk>/",
        enterprises.verification_document,
        name="verification_document",
    ),
    # Public notice and objections
    path(
        "staff/objections/<int:pk>/resolve/",
        publicity.resolve_objection,
        name="resolve_objection",
    ),
    path("staff/objections/<int:pk>/file/", publicity.objection_file, name="objection_file"),
    path("staff/registrar/publish/", publicity.publish_notice, name="publish_notice"),
    path("staff/registrar/close/", publicity.close_notices, name="close_notices"),
    # Government approval
    path("staff/registrar/approve/", review.record_approval, name="record_approval"),
    # Budgets and the audit log
    path("staff/budgets/", budgets.budgets, name="budgets"),
    path("staff/audit/", audit_log, name="audit_log"),
    # The auditor's dossier
    path("staff/dossiers/", dossier.dossiers, name="dossiers"),
    path("staff/dossiers/<int:pk>/", dossier.dossier_job, name="dossier_job"),
    path("staff/dossiers/<int:pk>/download/", dossier.dossier_download, name="dossier_download"),
    # Official statistics and the entitlements found from them (免申即享)
    path("staff/statistics/", statistics.statistics_list, name="statistics"),
    path("staff/statistics/<int:pk>/", statistics.statistics_detail, name="statistics_detail"),
    path(
        "staff/statistics/<int:pk>/approve/",
        statistics.statistics_approve,
        name="statistics_approve",
    ),
    path(
        "staff/statistics/<int:pk>/reject/", statistics.statistics_reject, name="statistics_reject"
    ),
    path("staff/statistics/<int:pk>/file/", statistics.statistics_file, name="statistics_file"),
    path(
        "staff/statistics/template/<str:source>.xlsx",
        statistics.statistics_template,
        name="statistics_template",
    ),
    path("staff/entitlements/", statistics.entitlement_list, name="entitlements"),
    path(
        "staff/applications/<int:pk>/dispute-source/",
        statistics.dispute_source,
        name="dispute_source",
    ),
    path("staff/entitlements/match/", statistics.entitlement_match, name="entitlement_match"),
    # Public notice, for everyone
    path("notices/", publicity.public_notices, name="public_notices"),
    path("notices/<int:pk>/object/", publicity.lodge_objection, name="lodge_objection"),
    # Finance (disbursements, exports, payments, reports)
    path("finance/disbursements/", finance.disbursements, name="finance_disbursements"),
    path("finance/batches/<int:pk>/", finance.batch_detail, name="finance_batch"),
    path(
        "finance/batches/<int:pk>/export.<str:file_format>",
        finance.batch_export,
        name="finance_export",
    ),
    path("finance/exports/<int:pk>/", finance.export_job, name="finance_export_job"),
    path(
        "finance/exports/<int:pk>/download/",
        finance.export_job_download,
        name="finance_export_job_download",
    ),
    path("finance/reports/", finance.reports, name="finance_reports"),
    path("finance/forecast/", forecast.forecast_page, name="forecast"),
    path("finance/forecast.xlsx", forecast.forecast_export, name="forecast_export"),
    path("finance/reports/<str:table>.xlsx", finance.report_export, name="finance_report_export"),
]

notice_urlpatterns = [
    path(
        "approval-notices/<int:pk>/download/<str:language>/",
        notices.download,
        name="download",
    ),
    path("staff/notices/", notices.staff_list, name="staff_list"),
    path("staff/notices/<int:pk>/retry/", notices.retry, name="retry"),
    path("staff/notices/<int:pk>/regenerate/", notices.regenerate, name="regenerate"),
    path("verify/<str:code>/", notices.verify, name="verify"),
]
# Included by the project's urls as the "notices" namespace.
notice_urls = (notice_urlpatterns, "notices")
