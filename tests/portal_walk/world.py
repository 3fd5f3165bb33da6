"""Objects in every state a valid action needs, built through the services on first use."""

from __future__ import annotations

from functools import cached_property

from applications.models import Application, Enterprise, Evidence
from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from tests.factories import make_user

# --- A world of states ----------------------------------------------------------------------------


class World:
    """Objects in every state a valid action needs, built on first use (through the services)."""

    def __init__(self):
        from reviews.tests.factories import Crew

        self.crew = Crew()

    # People
    @cached_property
    def enterprise(self) -> Enterprise:
        from reviews.tests.factories import make_enterprise

        return make_enterprise("衡阳巡检跨境电商有限公司")

    @cached_property
    def member(self):
        from reviews.tests.factories import make_member

        return make_member(self.enterprise, "walk-member")

    @cached_property
    def newcomer(self):
        """An applicant without an enterprise yet."""
        return make_user(Role.APPLICANT, username="walk-newcomer")

    def staff(self, role: Role, name: str, **fields):
        return make_user(role, username=f"walk-{name}", **fields)

    @cached_property
    def officers(self):
        return (
            self.staff(Role.DISBURSEMENT_OFFICER, "maker"),
            self.staff(Role.DISBURSEMENT_OFFICER, "checker"),
        )

    @cached_property
    def security_admins(self):
        return (
            self.staff(Role.SECURITY_ADMINISTRATOR, "security1"),
            self.staff(Role.SECURITY_ADMINISTRATOR, "security2"),
        )

    # Applications
    def application(
        self, state: State = State.SUBMITTED, *, own: bool = False, year: int | None = None
    ) -> Application:
        """An application in `state`: of the walk's own enterprise (whose member acts on it), or
        of a fresh enterprise (one application per enterprise, measure and year)."""
        from reviews.tests.factories import (
            advance,
            make_allocation,
            make_application,
            make_enterprise,
            make_member,
        )

        if own:
            self._own_years = getattr(self, "_own_years", 0) + 1
            application = make_application(  # 2026 is kept for the complete draft
                enterprise=self.enterprise,
                submitter=self.member,
                year=year or 2026 - self._own_years,
            )
        else:
            enterprise = make_enterprise()
            application = make_application(enterprise=enterprise, submitter=make_member(enterprise))
        if state in (State.SUBMITTED, State.DRAFT):
            if state == State.DRAFT:
                application.state = State.DRAFT
                application.reference = None
                application.submitted_at = application.submitted_by = None
                application.save()
            return application
        return advance(application, state, crew=self.crew, allocation=make_allocation())

    def complete_draft(self) -> Application:
        """A draft with every figure and every required document: ready to submit."""
        from applications import services
        from reviews.tests.factories import add_evidence

        application = self.application(State.DRAFT, own=True, year=2026)
        application = services.application_autosave(
            user=self.member,
            application=application,
            values={"cbec_export_volume_usd": "600000", "had_cbec_exports_before": "no"},
        )
        for n, code in enumerate(application.measure.evidence_types):
            evidence = add_evidence(application, sha256=f"{n:02d}" * 32)
            Evidence.objects.filter(pk=evidence.pk).update(document_type=code, frozen=False)
        return application

    def on_notice(self) -> Application:
        from reviews.tests.factories import publish

        application = self.application(State.PUBLIC_NOTICE)
        publish(application, self.crew.registrar)
        return application

    def notice_item(self, application: Application):
        from reviews.models import PublicNoticeItem

        return PublicNoticeItem.objects.get(application=application, batch__closed_at__isnull=True)

    def objection(self, *, with_file: bool = False):
        from reviews.services.publicity import objection_lodge

        application = self.on_notice()
        upload = None
        if with_file:
            from django.core.files.uploadedfile import SimpleUploadedFile

            from applications.tests.factories import pdf_bytes

            upload = SimpleUploadedFile("异议.pdf", pdf_bytes(), content_type="application/pdf")
        objection = objection_lodge(
            user=self.newcomer,
            item=self.notice_item(application),
            real_name="赵六",
            contact="13900000000",
            text="该企业出口额不实。",
            upload=upload,
        )
        if with_file:
            from applications.models import Evidence as _Evidence

            type(objection).objects.filter(pk=objection.pk).update(
                scan_state=_Evidence.ScanState.CLEAN
            )
        return objection

    def award(self):
        from reviews.models import Award

        application = self.application(State.APPROVED)
        return Award.objects.get(application=application, status=Award.Status.FIXED)

    def open_batch(self):
        from reviews.services import finance

        return finance.batch_create(user=self.officers[0], award_ids=[self.award().pk])

    def confirmed_batch(self):
        from reviews.services import finance

        return finance.batch_confirm(user=self.officers[1], batch=self.open_batch())

    def notice(self, status: str):
        from reviews.models import Notice

        application = self.application(State.APPROVED)
        notice = Notice.objects.get(application=application)
        files = {}
        if status == "ready":  # as a finished render leaves it (the walk renders no PDF)
            from django.core.files.base import ContentFile
            from django.core.files.storage import default_storage

            for language in ("zh", "en"):
                name = default_storage.save(f"notices/walk-{language}.pdf", ContentFile(b"%PDF-"))
                files.update({f"file_{language}": name, f"sha256_{language}": "ab" * 32})
        Notice.objects.filter(pk=notice.pk).update(status=status, **files)
        return notice

    # Enterprise verification, the auditor's dossier, the API
    def claim(self, *, returned: bool = False, dispute: bool = False):
        """A pending claim with its two documents scanned clean: a registration of a fresh
        credit code, or a dispute over the walk's own enterprise; `returned`: sent back by the
        commerce reviewer for new documents."""
        from applications.tests.factories import register
        from reviews.services.enterprises import claim_return
        from reviews.tests.factories import make_uscc

        self._claims = getattr(self, "_claims", 0) + 1
        claimant = make_user(Role.APPLICANT, username=f"walk-claimant{self._claims}")
        uscc = self.enterprise.uscc if dispute else make_uscc(876_543_210 + self._claims)
        claim = register(claimant, uscc)
        if returned:
            reason = "请补充加盖公章的授权书。"
            claim = claim_return(user=self.crew.commerce, claim=claim, reason=reason)
        return claim

    @cached_property
    def auditor(self):
        return self.staff(Role.AUDITOR, "auditor")

    def dossier(self):
        """A dossier the walk's auditor asked for, built and ready to download."""
        from reviews.models import DossierJob
        from reviews.services.dossier import dossier_build, dossier_request
        from reviews.tests.factories import add_evidence

        application = self.application()
        add_evidence(application)
        job = dossier_request(
            user=self.auditor, scope=DossierJob.Scope.APPLICATION, application=application
        )
        dossier_build(job.pk)
        job.refresh_from_db()
        return job

    def api_key(self, *scopes: str):
        """A system's key made by the first security administrator."""
        from hengyang_cbec.api import keys

        key, _secret = keys.key_create(
            user=self.security_admins[0], name="衡阳银行代发系统", scopes=list(scopes), days=30
        )
        return key

    def bank_result(self):
        """The bank's result for a confirmed batch's line, sent through the API and pending."""
        from hengyang_cbec.api import payments
        from hengyang_cbec.api.models import Scope

        batch = self.confirmed_batch()
        line = batch.lines.get()
        return payments.proposal_submit(
            key=self.api_key(Scope.EXCHANGE_PAYMENTS),
            batch=batch,
            rows=[
                {
                    "line": line.line_reference,
                    "account": line.bank_account,
                    "amount": f"{line.amount_cny:.2f}",
                    "reference": "BOC-API-1",
                    "status": "paid",
                }
            ],
        )

    # Official statistics and the entitlements found from them (免申即享)
    @cached_property
    def second_commerce(self):
        """The second commerce reviewer who approves what the first imported (four eyes)."""
        return self.staff(Role.COMMERCE_REVIEWER, "commerce2")

    def statistics_upload(self, *, uscc: str | None = None, name: str = "海关统计.csv"):
        """A customs file in the documented columns, as a browser uploads it: one line for
        `uscc` (a fresh credit code by default)."""
        from django.core.files.uploadedfile import SimpleUploadedFile

        from reviews.tests.factories import make_uscc

        self._imports = getattr(self, "_imports", 0) + 1
        text = (
            "统一社会信用代码,企业名称,年度,跨境电商出口额（美元）,跨境电商进口额（美元）,海关\n"
            f"{uscc or make_uscc(765_432_100 + self._imports)},衡阳巡检外贸有限公司,2026,"
            "1250000.00,300000.00,衡阳海关\n"
        )
        return SimpleUploadedFile(name, text.encode(), content_type="text/csv")

    def statistics_import(self, *, applied: bool = False, uscc: str | None = None):
        """A customs file imported by the crew's commerce reviewer, pending or (`applied`)
        approved by a second commerce reviewer."""
        from reviews.services.statistics import import_approve, import_create

        done = import_create(
            user=self.crew.commerce, source="customs", upload=self.statistics_upload(uscc=uscc)
        )
        if applied:
            done = import_approve(user=self.second_commerce, statistics_import=done)
        return done

    def entitlement(self):
        """An M05 entitlement offered to a fresh enterprise (with its member) by matching an
        applied customs import."""
        from reviews.models import Entitlement
        from reviews.services.entitlements import match
        from reviews.tests.factories import make_enterprise, make_member

        enterprise = make_enterprise()
        make_member(enterprise)
        self.statistics_import(applied=True, uscc=enterprise.uscc)
        match([(enterprise.uscc, 2026)])
        return Entitlement.objects.get(
            uscc=enterprise.uscc, measure__code="M05", status=Entitlement.Status.OFFERED
        )

    def proactive_application(self) -> Application:
        """A submitted 免申即享 application: an offered entitlement confirmed, the one open fact
        answered, the two documents asked for added, declared and submitted."""
        from applications import services
        from applications.entitlements import entitlement_confirm
        from reviews.tests.factories import add_evidence

        entitlement = self.entitlement()
        member = entitlement.enterprise.members.first().user
        application = entitlement_confirm(user=member, entitlement=entitlement)
        application = services.application_autosave(
            user=member, application=application, values={"had_cbec_exports_before": "no"}
        )
        for document_type in ("credit_commitment_letter", "bank_account_proof"):
            add_evidence(application, document_type=document_type, frozen=False, sha256="c1" * 32)
        return services.application_submit(
            user=member, application=application, signer_name="王芳", declared=True,
            version=application.version,
        )  # fmt: skip
