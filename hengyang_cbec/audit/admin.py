from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only for everybody: the log is append-only."""

    list_display = ("created_at", "action", "actor_name", "actor_role", "object_type", "object_id")
    list_filter = ("action", "result", "actor_role")
    search_fields = ("actor_name", "object_id", "action")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
