"""Demo users for every role in two institutions: used by ``create_demo_users`` (the README's run command)
and by the tests' cast, so both show the same people."""

from django.db import transaction

from .memberships import membership_bootstrap
from .models import Institution, Role, User

# (name used in tests, username, institution code, role)
DEMO_MEMBERS = [
    ("officer_a", "officer.inamu", "INAMU", Role.OFFICER),
    ("officer_b", "officer.pani", "PANI", Role.OFFICER),
    ("coordinator_a", "coordinator.eri", "ERI", Role.COORDINATOR),
    ("coordinator_b", "coordinator.conatt", "CONATT", Role.COORDINATOR),
    ("analyst_a", "analyst.conatt", "CONATT", Role.ANALYST),
    ("analyst_b", "analyst.inamu", "INAMU", Role.ANALYST),
    ("admin_a", "admin.conatt", "CONATT", Role.ADMIN),
    ("admin_b", "admin.dgme", "DGME", Role.ADMIN),
]


@transaction.atomic
def demo_users_create(*, password: str) -> dict[str, User]:
    """Create (or reset the password of) every demo user, each with their role in effect at once (the operator's
    grant: no second admin is needed for the demo). Idempotent."""
    institutions = {i.code: i for i in Institution.objects.all()}
    users = {}
    for name, username, code, role in DEMO_MEMBERS:
        user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.org"})
        user.set_password(password)
        user.save()
        membership_bootstrap(user=user, institution=institutions[code], role=role)
        users[name] = user
    return users
