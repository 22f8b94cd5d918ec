"""Pieces every CLI command shares: the `--data-dir` option and opening an install."""
from __future__ import annotations

import contextlib
import functools
from typing import Iterator

import click

from core.config import Settings, load_settings


class CliError(click.ClickException):
    """A user-facing failure: printed as one line, exit status 2."""

    exit_code = 2


def data_dir_option(func):
    """Add `--data-dir` (default: HUIKE_DATA_DIR, then ./huike-data)."""
    return click.option(
        "--data-dir", "data_dir", default=None, metavar="DIR",
        help="数据目录 / data directory (default: $HUIKE_DATA_DIR, then ./huike-data)")(func)


def require_install(settings: Settings) -> None:
    if not settings.config_path.exists():
        raise CliError(f"{settings.data_dir} 不是汇客数据目录 / is not a Huike data dir "
                       f"(no {settings.config_path.name}); run `huike init --data-dir "
                       f"{settings.data_dir}` first")


@contextlib.contextmanager
def open_registry(data_dir: str | None, *, overrides=None, need_install: bool = True) -> Iterator:
    """Load settings, build the registry, bind and connect the database for one command."""
    from core.db import connection
    from core.registry import Registry

    settings = load_settings(data_dir, overrides=overrides)
    if need_install:
        require_install(settings)
    registry = Registry.build(settings)
    with connection():
        yield registry


def confirm_echo(message: str) -> None:
    click.echo(message)


def pass_registry(func):
    """Decorator: open the install named by --data-dir and pass `registry` as first arg."""
    @data_dir_option
    @functools.wraps(func)
    def wrapper(data_dir, *args, **kwargs):
        with open_registry(data_dir) as registry:
            return func(registry, *args, **kwargs)
    return wrapper
