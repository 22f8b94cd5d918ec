"""The `huike` command line. Every command takes `--data-dir` (default `HUIKE_DATA_DIR`,
then `./huike-data`). Modules add commands through the `register_cli` hook."""
from __future__ import annotations

import importlib
import logging
import sys

import click

from core.cli.common import CliError, data_dir_option, open_registry
from core.config import ConfigError
from core.manifest import ManifestError, discover


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              help="日志级别 / log level")
def cli(log_level: str) -> None:
    """汇客 Huike — 私有化部署 CRM / on-premise CRM.

    先运行 `huike init`，然后 `huike serve`。/ Start with `huike init`, then `huike serve`."""
    logging.basicConfig(level=log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")


def _add_module_commands(group: click.Group) -> None:
    """Let every discovered module add its commands (imports module code, not the database)."""
    import pluggy

    from core.hooks import PROJECT, ModuleSpecs
    from core.manifest import load_order

    try:
        manifests = load_order(discover())
    except ManifestError as exc:
        click.echo(f"warning: module commands unavailable: {exc}", err=True)
        return
    plugins = pluggy.PluginManager(PROJECT)
    plugins.add_hookspecs(ModuleSpecs)
    for manifest in manifests:
        plugins.register(importlib.import_module(manifest.package), name=manifest.name)
    plugins.hook.register_cli(group=group)


_built: list[click.Group] = []


def build_cli() -> click.Group:
    """The full command group: core commands plus every module's (built once per process)."""
    if not _built:
        from core.cli import commands  # noqa: F401  (registers the core commands on `cli`)

        _add_module_commands(cli)
        _built.append(cli)
    return cli


def main() -> None:
    build_cli()
    try:
        cli.main(prog_name="huike", standalone_mode=True)
    except (CliError, ConfigError, ManifestError) as exc:
        click.echo(f"错误 / error: {exc}", err=True)
        sys.exit(2)


__all__ = ["cli", "build_cli", "main", "CliError", "data_dir_option", "open_registry"]
