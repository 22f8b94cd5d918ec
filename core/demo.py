"""`huike demo`: every module's demo data files, then its `load_demo` hook, in load order."""
from __future__ import annotations

from core.db import atomic
from core.seed import load_files


def load_demo(registry) -> list[str]:
    lines = []
    for manifest in registry.manifests:
        with atomic():
            load_files(registry, manifest, manifest.demo)
            result = registry.call_each_for(manifest.name, "load_demo", registry=registry)
        if manifest.demo or result:
            lines.append(f"{manifest.name}: {result or 'demo files loaded'}")
    return lines
