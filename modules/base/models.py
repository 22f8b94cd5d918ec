"""The org tree and shared records: company → division → department, regions, users, roles,
document sequences, tags and attachments."""
from __future__ import annotations

import peewee as pw

from core.db import BaseModel, JSONField, TimestampedModel, utcnow


class Company(TimestampedModel):
    name = pw.CharField(max_length=200)
    short_name = pw.CharField(max_length=64, null=True)
    credit_code = pw.CharField(max_length=18, null=True)

    class Meta:
        table_name = "base_company"


class Division(TimestampedModel):
    """A business division: the Casbin domain and the first key of every business record."""

    company = pw.ForeignKeyField(Company, backref="divisions", on_delete="RESTRICT")
    code = pw.CharField(max_length=32, unique=True)
    name = pw.CharField(max_length=200)
    active = pw.BooleanField(default=True)

    class Meta:
        table_name = "base_division"


class Department(TimestampedModel):
    """A department; `path` is the materialised path `/1/4/9/` so a subtree is one
    indexed `path LIKE '/1/4/%'` predicate."""

    division = pw.ForeignKeyField(Division, backref="departments", on_delete="RESTRICT")
    parent = pw.ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
    code = pw.CharField(max_length=64)
    name = pw.CharField(max_length=200)
    path = pw.CharField(max_length=512, index=True, default="")
    active = pw.BooleanField(default=True)

    class Meta:
        table_name = "base_department"
        indexes = ((("division", "code"), True),)


class Region(BaseModel):
    code = pw.CharField(max_length=32, unique=True)
    name = pw.CharField(max_length=64)
    name_en = pw.CharField(max_length=64)
    sequence = pw.IntegerField(default=10)

    class Meta:
        table_name = "base_region"


class User(TimestampedModel):
    login = pw.CharField(max_length=64, unique=True)
    name = pw.CharField(max_length=100)
    email = pw.CharField(max_length=200, null=True)
    department = pw.ForeignKeyField(Department, null=True, backref="users", on_delete="SET NULL")
    manager = pw.ForeignKeyField("self", null=True, backref="reports", on_delete="SET NULL")
    active = pw.BooleanField(default=True, index=True)
    is_admin = pw.BooleanField(default=False)
    password_hash = pw.CharField(max_length=255, null=True)
    password_changed_at = pw.DateTimeField(default=utcnow)
    language = pw.CharField(max_length=8, default="zh_CN")
    timezone = pw.CharField(max_length=64, default="Asia/Shanghai")

    class Meta:
        table_name = "base_user"


class UserRegion(BaseModel):
    user = pw.ForeignKeyField(User, backref="region_links", on_delete="CASCADE")
    region = pw.ForeignKeyField(Region, backref="user_links", on_delete="CASCADE")

    class Meta:
        table_name = "base_user_region"
        indexes = ((("user", "region"), True),)


class Role(TimestampedModel):
    """The role catalogue; what a role may do is decided by the security door."""

    code = pw.CharField(max_length=64, unique=True)
    name = pw.CharField(max_length=100)
    name_en = pw.CharField(max_length=100, default="")
    description = pw.TextField(default="")
    requires_2fa = pw.BooleanField(default=False)
    cross_division = pw.BooleanField(default=False)

    class Meta:
        table_name = "base_role"


class UserRole(BaseModel):
    """A role held in one division (`division` null = every division, Casbin domain `*`)."""

    user = pw.ForeignKeyField(User, backref="role_links", on_delete="CASCADE")
    role = pw.ForeignKeyField(Role, backref="user_links", on_delete="CASCADE")
    division = pw.ForeignKeyField(Division, null=True, backref="role_links", on_delete="CASCADE")

    class Meta:
        table_name = "base_user_role"
        indexes = ((("user", "role", "division"), True),)


class Sequence(BaseModel):
    """A per-division document counter per year: `LD-2026-000001`."""

    division = pw.ForeignKeyField(Division, on_delete="CASCADE")
    code = pw.CharField(max_length=16)
    year = pw.IntegerField()
    last_value = pw.BigIntegerField(default=0)

    class Meta:
        table_name = "base_sequence"
        indexes = ((("division", "code", "year"), True),)


class Tag(TimestampedModel):
    name = pw.CharField(max_length=64)
    color = pw.CharField(max_length=16, default="#1677ff")
    model = pw.CharField(max_length=64, default="")  # empty: usable on any model

    class Meta:
        table_name = "base_tag"
        indexes = ((("model", "name"), True),)


class TagLink(BaseModel):
    tag = pw.ForeignKeyField(Tag, backref="links", on_delete="CASCADE")
    model = pw.CharField(max_length=64)
    res_id = pw.IntegerField()

    class Meta:
        table_name = "base_tag_link"
        indexes = ((("model", "res_id", "tag"), True),)


class Attachment(TimestampedModel):
    """A file stored under `<data-dir>/attachments/<sha256[:2]>/<sha256>`."""

    model = pw.CharField(max_length=64)
    res_id = pw.IntegerField()
    filename = pw.CharField(max_length=255)
    content_type = pw.CharField(max_length=128)
    size = pw.BigIntegerField()
    sha256 = pw.CharField(max_length=64, index=True)
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    meta = JSONField(default=dict)

    class Meta:
        table_name = "base_attachment"
        indexes = ((("model", "res_id"), False),)


MODELS = [Company, Division, Department, Region, User, UserRegion, Role, UserRole, Sequence,
          Tag, TagLink, Attachment]


def create_extra_indexes() -> None:
    """Indexes peewee cannot declare portably. On PostgreSQL the department path gets a
    `text_pattern_ops` index so the subtree predicate `path LIKE '/1/4/%'` is an index range
    scan whatever the database collation (SQLite's GLOB uses the plain index)."""
    from core.db import database, is_postgres

    if is_postgres():
        database.execute_sql("CREATE INDEX IF NOT EXISTS base_department_path_pattern "
                             "ON base_department (path text_pattern_ops)")
