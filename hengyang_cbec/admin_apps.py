from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    """Django's admin with the audited site (admin_site.py) as `admin.site`."""

    default_site = "hengyang_cbec.admin_site.PortalAdminSite"
