from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    """The admin with the portal's login (see admin_site.py)."""

    default_site = "hengyang_cbec.admin_site.PortalAdminSite"
