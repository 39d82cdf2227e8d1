"""Creating organisations and users; changing and resetting passwords."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from audit.accounts import signals
from audit.accounts.models import Actor, LoginSession, Membership, Organisation, PasswordReset, Role, User
from audit.accounts.strength import check_password_strength
from audit.accounts.throttle import check_password
from audit.database import utcnow
from audit.errors import N_, DomainError
from audit.events import announce
from audit.security import new_token, token_digest

_LINK_DOES_NOT_WORK = N_(
    "This link does not work: it has been used, has expired or was replaced by a newer one. "
    "Ask your organisation's admin for a new link."
)
#: How long a reset link works.
RESET_LINK_LIFETIME = timedelta(hours=24)

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_organisation(session: Session, slug: str, name: str) -> Organisation:
    slug = slug.strip().lower()
    if not _SLUG.match(slug):
        raise DomainError(f"invalid slug '{slug}': use 2–40 lower-case letters, digits and dashes")
    if not name.strip():
        raise DomainError("the organisation needs a name")
    if session.scalar(select(Organisation).where(Organisation.slug == slug)):
        raise DomainError(f"an organisation with the slug '{slug}' already exists")
    organisation = Organisation(slug=slug, name=name.strip())
    session.add(organisation)
    session.flush()
    return organisation


def organisation_by_slug(session: Session, slug: str) -> Organisation:
    organisation = session.scalar(select(Organisation).where(Organisation.slug == slug.strip().lower()))
    if organisation is None:
        raise DomainError(f"no organisation with the slug '{slug}'")
    return organisation


def create_user(
    session: Session, organisation: Organisation, email: str, role: Role | str, password: str, name: str | None = None
) -> User:
    """Create a user with a role in `organisation`, or give an existing user a role there."""
    email = normalise_email(email)
    if not _EMAIL.match(email):
        raise DomainError(f"invalid e-mail address '{email}'")
    try:
        role = Role(role)
    except ValueError:
        raise DomainError(f"unknown role '{role}': use one of {', '.join(r.value for r in Role)}") from None
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        check_password_strength(password, email)
        user = User(email=email, name=(name or email.split("@")[0]).strip())
        user.set_password(password)
        session.add(user)
    elif any(m.organisation_id == organisation.id for m in user.memberships):
        raise DomainError(f"{email} is already a member of {organisation.slug}")
    membership = Membership(user=user, organisation=organisation, role=role)
    session.add(membership)
    session.flush()
    announce(
        signals.role_granted,
        session,
        None,
        organisation_id=organisation.id,
        object_id=membership.id,
        after={"user_id": user.id, "email": user.email, "role": role},
    )
    return user


class WrongPassword(DomainError):
    """The current password given to confirm a change is wrong (counted like a failed login)."""


def member_of(session: Session, organisation_id: int, user_id: int) -> User | None:
    """The user when they are a member of this organisation (an admin acts only on their own members)."""
    return session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id == user_id, Membership.organisation_id == organisation_id)
    )


def members(session: Session, organisation_id: int) -> list[tuple[User, Role]]:
    query = (
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation_id)
        .order_by(User.name, User.email)
    )
    return [(user, role) for user, role in session.execute(query)]


def revoke_login_sessions(session: Session, user: User, keep: str | None = None) -> None:
    """End every login of `user`, except the one whose token is `keep` (the browser that changed the password)."""
    query = update(LoginSession).where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
    if keep is not None:
        query = query.where(LoginSession.token_digest != token_digest(keep))
    session.execute(query.values(revoked_at=utcnow()).execution_options(synchronize_session=False))


def _set_password(session: Session, user: User, password: str, keep_login: str | None) -> None:
    check_password_strength(password, user.email)
    user.set_password(password)
    revoke_login_sessions(session, user, keep=keep_login)
    # A reset link made before the change would undo it.
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.flush()


def change_password(
    session: Session, user: User, current: str, new: str, address: str | None, keep_login: str | None = None
) -> None:
    """The user's own change: the current password is checked (and throttled like a login) first."""
    if check_password(session, user.email, current, address) is None:
        raise WrongPassword(N_("The current password is wrong."))
    if new == current:
        raise DomainError(N_("The new password must differ from the current one."))
    _set_password(session, user, new, keep_login)


def create_reset_link(session: Session, admin: Actor, user: User) -> str:
    """A one-time token for `user` to choose a new password; only its digest is stored, so show it now."""
    token = new_token()
    now = utcnow()
    session.add(
        PasswordReset(
            user=user,
            created_by_id=admin.id,
            token_digest=token_digest(token),
            created_at=now,
            expires_at=now + RESET_LINK_LIFETIME,
        )
    )
    session.flush()
    return token


def valid_reset(session: Session, token: str) -> PasswordReset | None:
    """The unused, unexpired reset of this token, or None."""
    reset = session.scalar(select(PasswordReset).where(PasswordReset.token_digest == token_digest(token)))
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow() or not reset.user.active:
        return None
    return reset


def reset_password(session: Session, reset: PasswordReset, new: str) -> User:
    """Use the link: the new password replaces the old one and every login of the user ends."""
    # Claimed by a conditional update, so that of two uses at once only one sets a password.
    claim = (
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
        .returning(PasswordReset.id)
        .execution_options(synchronize_session=False)
    )
    if session.execute(claim).scalar_one_or_none() is None:
        raise DomainError(_LINK_DOES_NOT_WORK)
    _set_password(session, reset.user, new, keep_login=None)
    return reset.user
