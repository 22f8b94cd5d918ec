"""`/api/v1/divisions`, `/api/v1/departments`, `/api/v1/regions`, `/api/v1/roles`.

Reads need a signed-in user; writes need an administrator."""
from __future__ import annotations

from core.web.base import APIError
from modules.base import services
from modules.base.handlers import BaseApiHandler, service_errors
from modules.base.models import Department, Division, Region, Role


def serialise_division(division: Division) -> dict:
    return {"id": division.id, "code": division.code, "name": division.name,
            "active": division.active, "company_id": division.company_id}


def serialise_department(dept: Department) -> dict:
    return {"id": dept.id, "division_id": dept.division_id, "parent_id": dept.parent_id,
            "code": dept.code, "name": dept.name, "path": dept.path,
            "depth": dept.path.count("/") - 2, "active": dept.active}


def nest(rows: list[dict]) -> list[dict]:
    """Flat department dicts (sorted by path) → a forest with `children`."""
    by_id = {row["id"]: {**row, "children": []} for row in rows}
    roots = []
    for row in by_id.values():
        parent = by_id.get(row["parent_id"])
        (parent["children"] if parent else roots).append(row)
    return roots


class DivisionsHandler(BaseApiHandler):
    """`GET` the divisions; `POST {"code", "name"}` (admin) creates one."""

    def get(self) -> None:
        self.require_user()
        rows = Division.select().order_by(Division.code)
        self.write_json({"divisions": [serialise_division(d) for d in rows]})

    def post(self) -> None:
        self.require_admin()
        data = self.body({"code", "name"}, {"code", "name"})
        with service_errors():
            division = services.create_division(data["code"], data["name"])
        self.write_json(serialise_division(division), 201)


class DepartmentsHandler(BaseApiHandler):
    """`GET ?division=&under=&tree=1` lists departments ordered by path (`under`: a subtree,
    `tree=1`: nested); `POST {"division_id", "code", "name", "parent_id"?}` (admin)."""

    def get(self) -> None:
        self.require_user()
        query = Department.select().order_by(Department.division, Department.path)
        division_id = self.int_arg("division")
        if division_id is not None:
            query = query.where(Department.division == division_id)
        under = self.int_arg("under")
        if under is not None:
            root = Department.get_or_none(Department.id == under)
            if root is None:
                raise APIError(404, f"没有这个部门 / no department {under}",
                               fields={"under": "not found"})
            query = query.where(services.subtree(root))
        rows = [serialise_department(d) for d in query]
        self.write_json({"departments": nest(rows) if self.bool_arg("tree") else rows})

    def post(self) -> None:
        self.require_admin()
        data = self.body({"division_id", "code", "name", "parent_id"},
                         {"division_id", "code", "name"})
        with service_errors():
            division = Division.get_or_none(Division.id == services.as_id(data["division_id"],
                                                                         "division_id"))
            if division is None:
                raise services.BaseError("没有这个事业部 / no such division", "division_id")
            parent = (None if data.get("parent_id") is None
                      else services.get_department(data["parent_id"], "parent_id"))
            if parent is not None and parent.division_id != division.id:
                raise services.BaseError("上级部门必须属于同一事业部 / parent must be in the "
                                         "same division", "parent_id")
            dept = services.create_department(division, data["code"], data["name"], parent)
        self.write_json(serialise_department(dept), 201)


class DepartmentHandler(BaseApiHandler):
    """`GET` one department; `PATCH {"name", "code", "active", "parent_id"}` (admin) —
    a new `parent_id` moves the whole subtree."""

    def _get(self, dept_id: str) -> Department:
        dept = Department.get_or_none(Department.id == int(dept_id))
        if dept is None:
            raise APIError(404, f"没有这个部门 / no department {dept_id}")
        return dept

    def get(self, dept_id: str) -> None:
        self.require_user()
        self.write_json(serialise_department(self._get(dept_id)))

    def patch(self, dept_id: str) -> None:
        self.require_admin()
        dept = self._get(dept_id)
        data = self.body({"name", "code", "active", "parent_id"})
        with service_errors():
            dept = services.update_department(dept, data)
        self.write_json(serialise_department(dept))


class RegionsHandler(BaseApiHandler):
    """`GET` the sales regions (华东, 华南, 华北, 华中, 西南, 西北, 东北)."""

    def get(self) -> None:
        self.require_user()
        rows = Region.select().order_by(Region.sequence, Region.code)
        self.write_json({"regions": [{"id": r.id, "code": r.code, "name": r.name,
                                      "name_en": r.name_en} for r in rows]})


class RolesHandler(BaseApiHandler):
    """`GET` the role catalogue (what each role may do is the security door's business)."""

    def get(self) -> None:
        self.require_user()
        rows = Role.select().order_by(Role.code)
        self.write_json({"roles": [{
            "id": r.id, "code": r.code, "name": r.name, "name_en": r.name_en,
            "description": r.description, "requires_2fa": r.requires_2fa,
            "cross_division": r.cross_division} for r in rows]})
