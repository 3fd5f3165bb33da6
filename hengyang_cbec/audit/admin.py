from django.contrib import admin

from hengyang_cbec.admin_mixins import ReadOnlyAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only for everybody: the log is append-only."""

    list_display = ("created_at", "action", "actor_name", "actor_role", "object_type", "object_id")
    list_filter = ("action", "result", "actor_role")
    search_fields = ("actor_name", "object_id", "action")
    date_hierarchy = "created_at"
