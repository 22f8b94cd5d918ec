"""Write throwaway modules into a folder for loader and migration tests."""
from __future__ import annotations

import textwrap
from pathlib import Path


def write_module(root: Path, name: str, version: str = "1.0.0", depends=(), *, extra_toml: str = "",
                 init_py: str = "", files: dict[str, str] | None = None) -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    deps = ", ".join(f'"{d}"' for d in depends)
    (folder / "module.toml").write_text(
        f'[module]\nname = "{name}"\nversion = "{version}"\nsummary = "test module {name}"\n'
        f"depends = [{deps}]\n{extra_toml}", encoding="utf-8")
    (folder / "__init__.py").write_text(textwrap.dedent(init_py), encoding="utf-8")
    for relative, text in (files or {}).items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return folder
