"""Tables of the policy engine: the Casbin rules and the policy version.

`security_casbin_rule` holds the p-lines (`p, <role>, <domain>, <resource>, <act>`). The
g-lines (who holds which role where) are not stored here: they are synthesised from
`base_user_role` (and `User.is_admin`) by the adapter, so the assignment has one source of
truth. `security_policy_version` is one row whose `version` is bumped in the same transaction
as any policy or assignment change; every process compares it (or is told through PostgreSQL
NOTIFY) to know when its compiled tables are stale. `token` tells databases apart, so a
process that talks to several databases (tests) never mixes their caches.
"""
from __future__ import annotations

import peewee as pw

from core.db import BaseModel, utcnow


class CasbinRule(BaseModel):
    ptype = pw.CharField(max_length=8)
    v0 = pw.CharField(max_length=191, default="")
    v1 = pw.CharField(max_length=191, default="")
    v2 = pw.CharField(max_length=191, default="")
    v3 = pw.CharField(max_length=191, default="")
    v4 = pw.CharField(max_length=191, default="")
    v5 = pw.CharField(max_length=191, default="")

    class Meta:
        table_name = "security_casbin_rule"
        indexes = (
            (("ptype", "v0", "v1", "v2", "v3", "v4", "v5"), True),
        )

    VALUE_FIELDS = ("v0", "v1", "v2", "v3", "v4", "v5")

    def values(self) -> list[str]:
        """The rule's values without trailing empty ones (Casbin's token list)."""
        values = [getattr(self, name) for name in self.VALUE_FIELDS]
        while values and values[-1] == "":
            values.pop()
        return values


class PolicyVersion(BaseModel):
    id = pw.IntegerField(primary_key=True)
    version = pw.BigIntegerField(default=1)
    token = pw.CharField(max_length=32)
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "security_policy_version"


MODELS = [CasbinRule, PolicyVersion]
