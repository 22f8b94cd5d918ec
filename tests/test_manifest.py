"""Module manifests are validated without importing code and ordered deterministically."""
from __future__ import annotations

import pytest

from core.manifest import ManifestError, discover, load_order, select_enabled
from tests.modkit import write_module


def names(manifests):
    return [m.name for m in manifests]


def test_load_order_is_topological_and_deterministic(tmp_path):
    write_module(tmp_path, "zeta", depends=["base"])
    write_module(tmp_path, "alpha", depends=["zeta"])
    write_module(tmp_path, "mid", depends=["base", "alpha"])
    found = discover([tmp_path])
    order = names(load_order(found, ["mid", "alpha", "zeta"]))
    assert order.index("base") < order.index("zeta") < order.index("alpha") < order.index("mid")
    assert order == names(load_order(found, ["zeta", "mid", "alpha"]))


def test_manifest_is_read_without_importing_code(tmp_path):
    write_module(tmp_path, "boom", init_py="raise RuntimeError('imported!')\n")
    found = discover([tmp_path])
    assert found["boom"].version == "1.0.0"


def test_unknown_key_names_module_and_key(tmp_path):
    write_module(tmp_path, "typo", extra_toml='colour = "red"\n')
    with pytest.raises(ManifestError, match=r"module typo: unknown key module\.colour"):
        discover([tmp_path])


def test_unknown_section_is_an_error(tmp_path):
    write_module(tmp_path, "odd", extra_toml='[laod]\ndata = []\n')
    with pytest.raises(ManifestError, match=r"module odd: unknown key \[laod\]"):
        discover([tmp_path])


def test_missing_dependency_names_module_and_dependency(tmp_path):
    write_module(tmp_path, "needy", depends=["ghost"])
    found = discover([tmp_path])
    with pytest.raises(ManifestError,
                       match=r"module needy: key module\.depends names missing module 'ghost'"):
        load_order(found, ["needy"])


def test_cycle_is_reported_with_its_path(tmp_path):
    write_module(tmp_path, "chicken", depends=["egg"])
    write_module(tmp_path, "egg", depends=["chicken"])
    with pytest.raises(ManifestError,
                       match=r"cycle: (chicken -> egg -> chicken|egg -> chicken -> egg)"):
        load_order(discover([tmp_path]), ["chicken"])


def test_missing_required_key(tmp_path):
    folder = tmp_path / "nover"
    folder.mkdir()
    (folder / "module.toml").write_text('[module]\nname = "nover"\n', encoding="utf-8")
    with pytest.raises(ManifestError, match=r"module nover: missing key module\.version"):
        discover([tmp_path])


def test_disabled_module_required_by_enabled_one_is_an_error(tmp_path):
    write_module(tmp_path, "child", depends=["parent"])
    write_module(tmp_path, "parent")
    found = discover([tmp_path])
    with pytest.raises(ManifestError,
                       match=r"module parent: disabled in config but required by child"):
        select_enabled(found, [], ["parent"])
    assert "child" not in names(select_enabled(found, [], ["child"]))
    assert names(select_enabled(found, ["parent"], [])) == ["parent"]
