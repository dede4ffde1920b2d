"""The shared cast of users every test can use: each role in two institutions, a user with no membership."""

from __future__ import annotations

from dataclasses import dataclass

from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.demo import DEMO_MEMBERS as MEMBERS
from accounts.models import Institution, Membership, User

PASSWORD = "correct horse battery staple 42"


@dataclass
class Cast:
    institution_a: Institution
    institution_b: Institution
    officer_a: User
    officer_b: User
    coordinator_a: User
    coordinator_b: User
    analyst_a: User
    analyst_b: User
    admin_a: User
    admin_b: User
    nobody: User

    def client_for(self, user: User | None, **client_options) -> Client:
        """A client logged in as ``user`` (anonymous for None), with the second factor confirmed where the role
        requires one, as after a real login. ``client_options`` go to Django's ``Client``."""
        client = Client(**client_options)
        if user is None:
            return client
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    def users(self) -> dict[str, User | None]:
        """Every member of the cast by name, plus the user without membership and the anonymous visitor."""
        named = {attribute: getattr(self, attribute) for attribute, *_ in MEMBERS}
        return {**named, "nobody": self.nobody, "anonymous": None}


def make_user(username: str, *, institution: Institution | None = None, role: str | None = None) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, email=f"{username}@example.org")
    if institution is not None and role is not None:
        confirmed_membership(user=user, institution=institution, role=role)
    return user


def confirmed_membership(*, user: User, institution: Institution, role: str) -> Membership:
    """A membership in effect, as after a grant and a second admin's confirmation (tests of separation of duties
    go through accounts.memberships instead)."""
    return Membership.objects.create(user=user, institution=institution, role=role, confirmed_at=timezone.now())


def build_cast() -> Cast:
    institutions = {i.code: i for i in Institution.objects.all()}
    people = {
        attribute: make_user(username, institution=institutions[code], role=role)
        for attribute, username, code, role in MEMBERS
    }
    return Cast(
        institution_a=institutions["INAMU"],
        institution_b=institutions["PANI"],
        nobody=make_user("nobody"),
        **people,
    )
