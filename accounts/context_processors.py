from . import access
from .models import Role


def access_flags(request) -> dict:
    user = request.user
    return {
        "user_roles": access.roles(user),
        "Role": Role,
        "nav": {
            "records": access.reads_records(user),
            "new_application": access.can_create_application(user),
            "queue": access.can_decide(user),
            "reports": access.can_view_reports(user),
            "estimation": access.can_view_estimates(user),
            "import": access.can_import_records(user),
            "export": access.can_export_records(user),
            "admin": access.can_administer(user),
        },
    }
