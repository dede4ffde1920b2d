from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    default_site = "conatt_portal.admin.PortalAdminSite"
