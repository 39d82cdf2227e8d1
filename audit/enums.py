"""A column type for Python enums that stores their values, backed by a named CHECK constraint everywhere."""

from __future__ import annotations

from enum import Enum as PyEnum

from sqlalchemy import Enum


def enum_column_type(enum_class: type[PyEnum], name: str) -> Enum:
    """Stored as VARCHAR with a CHECK constraint (not a native ENUM), so SQLite and PostgreSQL agree."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_class),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
