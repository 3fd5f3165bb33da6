"""The models of the bureau's side, by stage of the process (one module per stage).

review: actors, assignment, co-review, assessment and decision; awards: budget allocations,
approval batches and awards; publicity: public notice and objections; notices: approval notices
and their render jobs; finance: disbursement batches, lines and export jobs;
dossier: the auditor's dossiers.
"""

from .awards import ApprovalBatch, Award, BudgetAllocation
from .dossier import DossierJob
from .entitlements import Entitlement
from .finance import DisbursementBatch, DisbursementLine, ExportJob
from .notices import Notice, NoticeOutbox, NoticeQuerySet
from .publicity import Objection, PublicNoticeBatch, PublicNoticeItem
from .review import (
    ApplicationActors,
    Assessment,
    Assignment,
    CoReviewRequest,
    ReviewDecision,
    ReviewOpinion,
    Stage,
)
from .statistics import StatisticsImport, StatisticsRecord, StatisticsSource

__all__ = [
    "ApplicationActors",
    "ApprovalBatch",
    "Assessment",
    "Assignment",
    "Award",
    "BudgetAllocation",
    "CoReviewRequest",
    "DisbursementBatch",
    "DisbursementLine",
    "DossierJob",
    "Entitlement",
    "ExportJob",
    "Notice",
    "NoticeOutbox",
    "NoticeQuerySet",
    "Objection",
    "PublicNoticeBatch",
    "PublicNoticeItem",
    "ReviewDecision",
    "ReviewOpinion",
    "Stage",
    "StatisticsImport",
    "StatisticsRecord",
    "StatisticsSource",
]
