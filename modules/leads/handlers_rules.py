"""HTTP API for editing lead automation rules (services in `rules_admin`).

- `/api/v1/leads/{scoring-rules|assignment-rules|nurture-rules}`: `GET` list (filters
  `division` (id or `default`), `active`; sort `sequence`/`id`; keyset pages), `POST` create
  → 201; `/<id>`: `GET`, `PATCH`, `DELETE` → 204.
- `/api/v1/leads/{pool-settings|sla-policies}`: `GET` every row; `/<division id|default>`:
  `PUT` sets them.
- `/api/v1/leads/user-caps`: `GET`; `/<user id>`: `PUT {"max_open", "working_hours"}`, `DELETE`.
- `/api/v1/leads/sop`: `GET` statuses, transitions and follow-up tasks; `PUT` replaces them.
"""
from __future__ import annotations

from modules.leads import rules_admin
from modules.leads.handlers_automation import LeadsApiHandler


class RulesHandler(LeadsApiHandler):
    def get(self, kind: str) -> None:
        found = rules_admin.KINDS[kind]
        default = "sequence" if "sequence" in found.model._meta.fields else "id"
        self.write_json(rules_admin.list_rules(self.ctx, found, self.list_params(default),
                                               self.arg))

    def post(self, kind: str) -> None:
        self.write_json(rules_admin.create_rule(self.ctx, rules_admin.KINDS[kind],
                                                self.body()), 201)


class RuleHandler(LeadsApiHandler):
    def get(self, kind: str, rule_id: str) -> None:
        self.write_json(rules_admin.get_rule(self.ctx, rules_admin.KINDS[kind],
                                             self.pk(rule_id)))

    def patch(self, kind: str, rule_id: str) -> None:
        self.write_json(rules_admin.update_rule(self.ctx, rules_admin.KINDS[kind],
                                                self.pk(rule_id), self.body()))

    def delete(self, kind: str, rule_id: str) -> None:
        rules_admin.delete_rule(self.ctx, rules_admin.KINDS[kind], self.pk(rule_id))
        self.set_status(204)
        self.finish()


class SettingsHandler(LeadsApiHandler):
    def get(self, name: str) -> None:
        self.write_json(rules_admin.list_settings(self.ctx, name))


class SettingHandler(LeadsApiHandler):
    def put(self, name: str, division: str) -> None:
        self.write_json(rules_admin.put_settings(self.ctx, name, division, self.body()))


class CapsHandler(LeadsApiHandler):
    def get(self) -> None:
        self.write_json(rules_admin.list_caps(self.ctx))


class CapHandler(LeadsApiHandler):
    def put(self, user_id: str) -> None:
        self.write_json(rules_admin.put_cap(self.ctx, user_id, self.body()))

    def delete(self, user_id: str) -> None:
        rules_admin.delete_cap(self.ctx, user_id)
        self.set_status(204)
        self.finish()


class SopHandler(LeadsApiHandler):
    def get(self) -> None:
        self.write_json(rules_admin.get_sop(self.ctx))

    def put(self) -> None:
        self.write_json(rules_admin.put_sop(self.ctx, self.body()))
