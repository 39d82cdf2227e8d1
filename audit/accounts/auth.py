"""Who is asking: login sessions for browsers and bearer tokens for the API (guessing is throttled in `throttle`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask, request, session
from flask_login import LoginManager, UserMixin, login_user, logout_user
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from audit.accounts import signals
from audit.accounts.models import ApiToken, LoginSession, Membership, Organisation, Role, User
from audit.accounts.services import normalise_email
from audit.accounts.throttle import check_password
from audit.database import utcnow
from audit.errors import DomainError
from audit.events import announce
from audit.security import new_token, token_digest

login_manager = LoginManager()


@dataclass(frozen=True, slots=True)
class Principal(UserMixin):
    """The signed-in user, in the organisation and role of this login.

    Plain values read with the credential in one query, as every request needs them; the ORM objects are loaded
    only by the views that need them (`user`, `organisation`).
    """

    id: int
    email: str
    name: str
    organisation_id: int
    organisation_name: str
    role: Role
    #: The login session's token (browser) or None (API token).
    token: str | None = None

    def get_id(self) -> str | None:
        return self.token

    @property
    def user(self) -> User:
        from audit.extensions import db

        return db.session.get_one(User, self.id)

    @property
    def organisation(self) -> Organisation:
        from audit.extensions import db

        return db.session.get_one(Organisation, self.organisation_id)

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    @classmethod
    def of(cls, user: User, membership: Membership, token: str | None = None) -> Principal:
        return cls(
            user.id,
            user.email,
            user.name,
            membership.organisation_id,
            membership.organisation.name,
            membership.role,
            token,
        )


class LoginFailed(DomainError):
    pass


def _membership(db_session: Session, user_id: int, organisation_id: int) -> Membership | None:
    return db_session.scalar(
        select(Membership).where(Membership.user_id == user_id, Membership.organisation_id == organisation_id)
    )


def authenticate(db_session: Session, email: str, password: str) -> Principal:
    """Check the credentials (throttled: `LoginThrottled`) and start a login session; failures are recorded."""
    email = normalise_email(email)
    user = check_password(db_session, email, password, request.remote_addr)
    if user is None or not user.memberships:
        _announce_failure(db_session, user or db_session.scalar(select(User).where(User.email == email)))
        raise LoginFailed("wrong e-mail or password")
    membership = sorted(user.memberships, key=lambda m: m.id)[0]
    token = new_token()
    db_session.add(
        LoginSession(user=user, organisation_id=membership.organisation_id, token_digest=token_digest(token))
    )
    user.last_login_at = utcnow()
    db_session.flush()
    announce(
        signals.logged_in,
        db_session,
        user,
        organisation_id=membership.organisation_id,
        object_id=user.id,
        after={"remote_addr": request.remote_addr},
    )
    return Principal.of(user, membership, token)


def _announce_failure(db_session: Session, user: User | None) -> None:
    """A failed login, in the chain of the account's organisations; a failure for an unknown address in the chain
    outside organisations, without what was typed (it may be a password typed into the wrong field)."""
    after = {"remote_addr": request.remote_addr}
    if user is None or not user.memberships:
        announce(signals.login_failed, db_session, None, organisation_id=None, object_id=None, after=after)
        return
    # One chain after the other in a fixed order, so two failures that lock the same chains never wait in a circle.
    for organisation_id in sorted(m.organisation_id for m in user.memberships):
        announce(
            signals.login_failed,
            db_session,
            None,
            organisation_id=organisation_id,
            object_id=user.id,
            after={"email": user.email, **after},
        )


def begin_login(principal: Principal) -> None:
    # A fresh cookie at login: nothing set before it (a planted session) survives, except the language.
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    login_user(principal)
    session.permanent = True


def end_login(db_session: Session, principal: Principal) -> None:
    if principal.token:
        row = db_session.scalar(select(LoginSession).where(LoginSession.token_digest == token_digest(principal.token)))
        if row is not None and row.revoked_at is None:
            row.revoked_at = utcnow()
            db_session.flush()
            announce(
                signals.logged_out, db_session, principal, organisation_id=row.organisation_id, object_id=principal.id
            )
    logout_user()
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


def create_api_token(db_session: Session, user: User, organisation: Organisation, name: str) -> str:
    """A new bearer token; only its digest is stored, so the caller must show it now."""
    if _membership(db_session, user.id, organisation.id) is None:
        raise DomainError(f"{user.email} is not a member of {organisation.slug}")
    token = new_token()
    row = ApiToken(user=user, organisation=organisation, name=name, token_digest=token_digest(token))
    db_session.add(row)
    db_session.flush()
    announce(
        signals.api_token_created,
        db_session,
        None,
        organisation_id=organisation.id,
        object_id=row.id,
        after={"user_id": user.id, "email": user.email, "name": name},
    )
    return token


def revoke_api_tokens(db_session: Session, user: User) -> int:
    tokens = db_session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))
    revoked = []
    for token in tokens:
        token.revoked_at = utcnow()
        revoked.append(token)
    db_session.flush()
    for token in revoked:
        announce(
            signals.api_token_revoked,
            db_session,
            None,
            organisation_id=token.organisation_id,
            object_id=token.id,
            before={"revoked": False},
            after={"revoked": True, "user_id": user.id, "email": user.email, "name": token.name},
        )
    return len(revoked)


#: The longest a login lasts, however busy: the cookie's 12 hours are renewed by every request, this is not.
LOGIN_MAX_AGE = timedelta(days=30)


def _principal_query(credential: type[LoginSession] | type[ApiToken]) -> Select[*tuple[Any, ...]]:
    query = (
        select(User.id, User.email, User.name, Membership.organisation_id, Organisation.name, Membership.role)
        .select_from(credential)
        .join(
            Membership,
            (credential.user_id == Membership.user_id) & (credential.organisation_id == Membership.organisation_id),
        )
        .join(User, User.id == Membership.user_id)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(credential.token_digest == bindparam("digest"), credential.revoked_at.is_(None), User.active)
    )
    if credential is LoginSession:
        query = query.where(credential.created_at >= bindparam("oldest"))
    return query


#: Built once: every request runs one of them, and building and hashing a statement costs more than running it.
_PRINCIPAL_QUERIES = {credential: _principal_query(credential) for credential in (LoginSession, ApiToken)}


def _principal_for(credential: type[LoginSession] | type[ApiToken], token: str, keep: str | None) -> Principal | None:
    """Who a live login session or API token stands for, in one query (`keep`: the token the Principal keeps)."""
    from audit.extensions import db

    parameters: dict[str, object] = {"digest": token_digest(token)}
    if credential is LoginSession:
        parameters["oldest"] = utcnow() - LOGIN_MAX_AGE
    row = db.session.connection().execute(_PRINCIPAL_QUERIES[credential], parameters).first()
    return None if row is None else Principal(*row, token=keep)


def init_login(app: Flask) -> None:

    login_manager.init_app(app)
    login_manager.session_protection = None  # the server-side login session does this job, revocably

    @login_manager.user_loader
    def _load_from_session(token: str) -> Principal | None:
        return _principal_for(LoginSession, token, keep=token)

    @login_manager.request_loader
    def _load_from_bearer_token(_request: object) -> Principal | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return _principal_for(ApiToken, token.strip(), keep=None)
