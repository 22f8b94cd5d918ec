"""Module manifests: find `module.toml` files and order modules, without importing their code.

In-tree modules live in `modules/<name>/module.toml`; out-of-tree modules register a package
under the entry-point group `huike.modules` and ship `module.toml` inside that package. Any
unknown key, missing dependency or cycle is a `ManifestError` naming the module and the key.
"""
from __future__ import annotations

import importlib.util
import tomllib
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Iterable

ENTRY_POINT_GROUP = "huike.modules"
IN_TREE_ROOT = Path(__file__).resolve().parent.parent / "modules"

ALLOWED = {
    "module": {"name", "version", "summary", "depends", "category", "author", "license",
               "auto_install"},
    "load": {"data", "demo"},
}
REQUIRED = {"module": {"name", "version"}}


class ManifestError(Exception):
    """A module manifest is invalid, or the set of modules cannot be ordered."""


@dataclass(frozen=True)
class Manifest:
    name: str
    version: str
    summary: str
    depends: tuple[str, ...]
    data: tuple[str, ...]
    demo: tuple[str, ...]
    path: Path
    package: str  # importable name of the module's package
    origin: str = "in-tree"  # or "entry-point"
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def version_tuple(self) -> tuple[int, ...]:
        return parse_version(self.version)


def parse_version(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError as exc:
        raise ManifestError(f"version {text!r} is not dotted numbers like 1.2.0") from exc


def _str_list(label: str, key: str, value) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ManifestError(f"module {label}: key {key} must be a list of strings")
    return tuple(value)


def read_manifest(path: Path, package: str, origin: str = "in-tree") -> Manifest:
    """Parse and validate one `module.toml`."""
    label = path.parent.name
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ManifestError(f"module {label}: cannot read {path}: {exc}") from exc
    for section, body in raw.items():
        if section not in ALLOWED:
            raise ManifestError(f"module {label}: unknown key [{section}] in {path}")
        for key in body:
            if key not in ALLOWED[section]:
                raise ManifestError(f"module {label}: unknown key {section}.{key} in {path}")
    for section, keys in REQUIRED.items():
        for key in keys:
            if key not in raw.get(section, {}):
                raise ManifestError(f"module {label}: missing key {section}.{key} in {path}")
    mod, load = raw["module"], raw.get("load", {})
    name = mod["name"]
    if origin == "in-tree" and name != label:
        raise ManifestError(f"module {label}: key module.name is {name!r}, expected {label!r}")
    parse_version(mod["version"])
    return Manifest(
        name=name, version=mod["version"], summary=mod.get("summary", ""),
        depends=_str_list(name, "module.depends", mod.get("depends", [])),
        data=_str_list(name, "load.data", load.get("data", [])),
        demo=_str_list(name, "load.demo", load.get("demo", [])),
        path=path.parent, package=package, origin=origin,
    )


def _in_tree(roots: Iterable[Path]) -> list[Manifest]:
    found = []
    for root in roots:
        prefix = "modules" if root == IN_TREE_ROOT else None
        for toml_path in sorted(root.glob("*/module.toml")):
            package = f"{prefix}.{toml_path.parent.name}" if prefix else toml_path.parent.name
            found.append(read_manifest(toml_path, package))
    return found


def _from_entry_points() -> list[Manifest]:
    found = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        spec = importlib.util.find_spec(ep.value)  # locates the package without running it
        if spec is None or not spec.submodule_search_locations:
            raise ManifestError(f"module {ep.name}: entry point {ep.value!r} is not a package")
        toml_path = Path(list(spec.submodule_search_locations)[0]) / "module.toml"
        if not toml_path.exists():
            raise ManifestError(f"module {ep.name}: package {ep.value} has no module.toml")
        found.append(read_manifest(toml_path, ep.value, origin="entry-point"))
    return found


def discover(extra_roots: Iterable[Path] = ()) -> dict[str, Manifest]:
    """Every available module by name (in-tree, extra folders, entry points)."""
    manifests: dict[str, Manifest] = {}
    for manifest in _in_tree([IN_TREE_ROOT, *extra_roots]) + _from_entry_points():
        if manifest.name in manifests:
            other = manifests[manifest.name]
            raise ManifestError(f"module {manifest.name}: found twice ({other.path} and "
                                f"{manifest.path})")
        manifests[manifest.name] = manifest
    return manifests


def load_order(manifests: dict[str, Manifest],
               wanted: Iterable[str] | None = None) -> list[Manifest]:
    """Deterministic topological order of `wanted` (default: all) and their dependencies.

    Among modules whose dependencies are satisfied, the alphabetically first goes next, so the
    same set always loads in the same order."""
    wanted = sorted(manifests) if wanted is None else list(wanted)
    needed: dict[str, Manifest] = {}
    stack = list(wanted)
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        if name not in manifests:
            raise ManifestError(f"module {name}: not found (enabled in config but not installed)")
        manifest = manifests[name]
        for dep in manifest.depends:
            if dep not in manifests:
                raise ManifestError(
                    f"module {name}: key module.depends names missing module {dep!r}")
            stack.append(dep)
        needed[name] = manifest
    ordered: list[Manifest] = []
    done: set[str] = set()
    pending = dict(needed)
    while pending:
        ready = sorted(n for n, m in pending.items() if all(d in done for d in m.depends))
        if not ready:
            cycle = _find_cycle(pending)
            raise ManifestError(f"module {cycle[0]}: key module.depends forms a cycle: "
                                + " -> ".join(cycle))
        name = ready[0]
        ordered.append(pending.pop(name))
        done.add(name)
    return ordered


def _find_cycle(pending: dict[str, Manifest]) -> list[str]:
    start = sorted(pending)[0]
    path, seen = [start], {start: 0}
    node = start
    while True:
        node = sorted(d for d in pending[node].depends if d in pending)[0]
        if node in seen:
            return path[seen[node]:] + [node]
        seen[node] = len(path)
        path.append(node)


def select_enabled(manifests: dict[str, Manifest], enabled: list[str],
                   disabled: list[str]) -> list[Manifest]:
    """Apply `[modules] enabled/disabled`: a disabled module that another enabled one needs is
    an error, not a silent half-install."""
    for name in [*enabled, *disabled]:
        if name not in manifests:
            raise ManifestError(f"module {name}: named in [modules] config but not found")
    wanted = [n for n in (enabled or sorted(manifests)) if n not in disabled]
    ordered = load_order(manifests, wanted)
    for manifest in ordered:
        if manifest.name in disabled:
            needers = [m.name for m in ordered if manifest.name in m.depends]
            raise ManifestError(f"module {manifest.name}: disabled in config but required by "
                                + ", ".join(needers))
    return ordered
