"""Organisations (the tenant boundary), users and their roles in each organisation."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from audit.database import Base, UTCDateTime, utcnow
from audit.enums import enum_column_type
from audit.security import hash_password, verify_password


class Role(StrEnum):
    admin = "admin"
    inspector = "inspector"
    manager = "manager"
    contractor = "contractor"
    viewer = "viewer"


class Organisation(Base):
    """A housing company. Nobody sees another organisation's data."""

    __tablename__ = "organisations"
    __table_args__ = (CheckConstraint("slug = lower(slug) AND length(slug) >= 2", name="slug_format"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short stable name used in URLs and on the command line, e.g. ``demo``.
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Whether photos keep their GPS position (stripped by default: it can reveal where inspectors live).
    keep_photo_location: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="organisation", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"


class Actor(Protocol):
    """Who acts, where only the id matters: a `User`, or the request's signed-in user (audit.accounts.auth)."""

    @property
    def id(self) -> int: ...


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("email = lower(email) AND email LIKE '%_@_%'", name="email_format"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Always stored in lower case; it is the login name.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Argon2id hash; never the password itself.
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        return verify_password(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class Membership(Base):
    """A user's role in one organisation."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column_type(Role, "role"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")


class Credential:
    """What a login session and an API token share: whose it is, in which organisation, and its hashed token.

    Only the token's sha256 is stored; a revoked credential no longer authenticates anyone.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: The organisation the user works in with this credential.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @declared_attr
    def user(cls) -> Mapped[User]:  # noqa: N805 (declared_attr receives the class)
        return relationship(User)

    @declared_attr
    def organisation(cls) -> Mapped[Organisation]:  # noqa: N805
        return relationship(Organisation)


class LoginSession(Credential, Base):
    """One login: the browser's session cookie carries its token, so logging out really ends it.

    A cookie captured before logout (or before an admin revoked the login) names a revoked row and no longer works.
    """

    __tablename__ = "login_sessions"


class ApiToken(Credential, Base):
    """A bearer token for the API (`tryggahus token create`); revocable."""

    __tablename__ = "api_tokens"

    name: Mapped[str] = mapped_column(String(100))


class ThrottleScope(StrEnum):
    """What a login throttle counts failures of."""

    #: One e-mail address tried from one client address.
    account_from_address = "account_from_address"
    #: One e-mail address tried from anywhere.
    account = "account"
    #: Every e-mail address tried from one client address.
    address = "address"


class LoginThrottle(Base):
    """Failed logins of one key (see `ThrottleScope`); the row's lock makes parallel tries take turns.

    The key is the e-mail address as typed (lower case) whether or not such a user exists, so throttling tells
    nothing about which accounts exist.
    """

    __tablename__ = "login_throttles"
    __table_args__ = (CheckConstraint("failures >= 0", name="failures_not_negative"),)

    scope: Mapped[ThrottleScope] = mapped_column(enum_column_type(ThrottleScope, "throttle_scope"), primary_key=True)
    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class PasswordReset(Base):
    """A one-time link that lets a user choose a new password; only the token's sha256 is stored."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: The admin who made the link.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When the link was used, or made void by a newer link or a password change.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
