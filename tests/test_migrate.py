"""Per-module schema versions: steps run exactly once when the version rises; a failing step rolls
back and names its module and step."""
from __future__ import annotations

import uuid

import pytest

from core.config import load_settings
from core.db import database
from core.migrate import MigrationError, installed_versions, migrate_all
from core.registry import Registry
from tests.modkit import write_module
from tests.support import make_install

MODEL_INIT = '''
import peewee as pw
from core.db import BaseModel
from core.hooks import hookimpl

class Item(BaseModel):
    name = pw.CharField()
    class Meta:
        table_name = "{name}_item"

@hookimpl
def register_models():
    return [Item]
'''

ADD_NOTE = '''
import peewee as pw
from playhouse.migrate import migrate as run

def migrate(migrator, database):
    run(migrator.add_column("{name}_item", "note", pw.CharField(null=True)))
    database.execute_sql("CREATE TABLE IF NOT EXISTS {name}_runs (step VARCHAR(32))")
    database.execute_sql("INSERT INTO {name}_runs (step) VALUES ('v1_1_0')")
'''

BROKEN = '''
import peewee as pw
from playhouse.migrate import migrate as run

def migrate(migrator, database):
    run(migrator.add_column("{name}_item", "colour", pw.CharField(null=True)))
    raise RuntimeError("disk on fire")
'''


def columns(table):
    return {c.name for c in database.get_columns(table)}


def test_migration_runs_once_on_upgrade_and_failed_step_rolls_back(tmp_path, database_url):
    name = f"m{uuid.uuid4().hex[:8]}"
    root = tmp_path / "extra"
    write_module(root, name, "1.0.0", ["base"], init_py=MODEL_INIT.format(name=name))
    config = {"modules": {"paths": [str(root)]}}
    with make_install(tmp_path / "data", database_url, extra_config=config) as inst:
        assert installed_versions()[name] == "1.0.0"
        assert "note" not in columns(f"{name}_item")

        write_module(root, name, "1.1.0", ["base"], init_py=MODEL_INIT.format(name=name),
                     files={"migrations/v1_1_0__add_note.py": ADD_NOTE.format(name=name)})
        registry = Registry.build(load_settings(inst.data_dir, environ={}))
        outcome = dict(migrate_all(registry))
        assert outcome[name] == "upgraded 1.0.0 -> 1.1.0"
        assert dict(migrate_all(registry))[name] == "up to date"
        runs = database.execute_sql(f"SELECT COUNT(*) FROM {name}_runs").fetchone()[0]
        assert runs == 1
        assert "note" in columns(f"{name}_item")

        write_module(root, name, "1.2.0", ["base"], init_py=MODEL_INIT.format(name=name),
                     files={"migrations/v1_1_0__add_note.py": ADD_NOTE.format(name=name),
                            "migrations/v1_2_0__broken.py": BROKEN.format(name=name)})
        registry = Registry.build(load_settings(inst.data_dir, environ={}))
        with pytest.raises(MigrationError, match=rf"module {name}: migration step v1_2_0__broken "
                                                 r"failed: RuntimeError: disk on fire"):
            migrate_all(registry)
        assert installed_versions()[name] == "1.1.0"
        assert "colour" not in columns(f"{name}_item")
        assert database.execute_sql(f"SELECT COUNT(*) FROM {name}_runs").fetchone()[0] == 1


def test_downgrade_is_refused(tmp_path, database_url):
    name = f"m{uuid.uuid4().hex[:8]}"
    root = tmp_path / "extra"
    write_module(root, name, "2.0.0", ["base"])
    with make_install(tmp_path / "data", database_url,
                      extra_config={"modules": {"paths": [str(root)]}}) as inst:
        write_module(root, name, "1.0.0", ["base"])
        registry = Registry.build(load_settings(inst.data_dir, environ={}))
        with pytest.raises(MigrationError, match="refusing to downgrade"):
            migrate_all(registry)


def test_seed_data_is_idempotent_and_noupdate_keeps_admin_edits(install):
    from modules.base.models import Region
    from core.seed import load_files

    east = Region.get(Region.code == "east")
    east.name = "华东大区"
    east.save()
    base = install.registry.manifest("base")
    load_files(install.registry, base, base.data)
    load_files(install.registry, base, base.data)
    assert Region.select().count() == 7
    assert Region.get(Region.code == "east").name == "华东大区"
