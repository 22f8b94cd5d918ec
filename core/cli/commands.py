"""Core commands: init, migrate, modules, serve, worker, demo, outbox."""
from __future__ import annotations

import json
from pathlib import Path

import click

from core.cli import cli
from core.cli.common import CliError, data_dir_option, open_registry
from core.cli.install import initialise


@cli.command()
@data_dir_option
@click.option("--key-file", type=click.Path(dir_okay=False), default=None,
              help="主密钥文件放在数据目录之外（生产环境推荐） / keep the master key outside the "
                   "data dir (recommended in production; backups then never contain it)")
@click.option("--admin-login", default="admin", show_default=True,
              help="首个管理员登录名 / first admin login")
@click.option("--admin-password-file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="从文件读取管理员密码（否则交互输入） / read the admin password from a file "
                   "(otherwise prompt)")
@click.option("--database-url", default=None,
              help="postgresql://user@host/db（默认：数据目录中的 SQLite） / default: SQLite in the data dir")
@click.option("--force", is_flag=True,
              help="覆盖已有安装的配置；数据库和主密钥保留 / rewrite an existing install's config "
                   "(database and master key are kept)")
def init(data_dir, key_file, admin_login, admin_password_file, database_url, force):
    """创建数据目录、配置、数据库、主密钥和首个管理员 / create a new install."""
    if admin_password_file:
        password = Path(admin_password_file).read_text(encoding="utf-8").strip()
    else:
        password = click.prompt("管理员密码 / admin password", hide_input=True,
                                confirmation_prompt=True)
    report = initialise(data_dir, key_file=key_file, admin_login=admin_login,
                        admin_password=password, database_url=database_url, force=force)
    for line in report:
        click.echo(line)


@cli.command()
@data_dir_option
def migrate(data_dir):
    """安装或升级所有启用的模块 / install or upgrade every enabled module."""
    from core.migrate import MigrationError, migrate_all

    with open_registry(data_dir) as registry:
        try:
            for name, outcome in migrate_all(registry):
                click.echo(f"{name:<20} {outcome}")
        except MigrationError as exc:
            raise CliError(str(exc)) from exc


@cli.command()
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="JSON 输出 / print JSON")
def modules(data_dir, as_json):
    """按加载顺序列出模块 / list modules in load order: name, version, state, dependencies."""
    from core.migrate import installed_versions
    from core.web.app import _state

    with open_registry(data_dir) as registry:
        installed = installed_versions()
        rows = [{"name": m.name, "version": m.version,
                 "state": _state(m.version, installed.get(m.name)),
                 "depends": list(m.depends), "origin": m.origin} for m in registry.manifests]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    click.echo(f"{'NAME':<20} {'VERSION':<10} {'STATE':<14} DEPENDS")
    for row in rows:
        click.echo(f"{row['name']:<20} {row['version']:<10} {row['state']:<14} "
                   f"{', '.join(row['depends']) or '-'}")


@cli.command()
@data_dir_option
@click.option("--host", default=None, help="监听地址 / bind address")
@click.option("--port", type=int, default=None, help="端口 / port (default 8800)")
@click.option("--processes", type=int, default=None,
              help="进程数（0 = CPU 核数） / worker processes (0 = one per core)")
@click.option("--with-worker", is_flag=True,
              help="在同一进程中运行后台任务 / also run the job worker in this process")
def serve(data_dir, host, port, processes, with_worker):
    """启动 Web 服务 / run the web server."""
    from core.server import run_server

    run_server(data_dir, host=host, port=port, processes=processes, with_worker=with_worker)


@cli.command()
@data_dir_option
@click.option("--workers", type=int, default=None, help="线程数 / worker threads")
def worker(data_dir, workers):
    """运行后台任务（huey） / run the background job consumer."""
    from core.jobs import run_worker

    with open_registry(data_dir) as registry:
        _require_migrated(registry)
        from security.crypto import require_keys
        require_keys(registry)  # a missing or wrong master key stops the worker with a message
    run_worker(registry, workers)


def _require_migrated(registry) -> None:
    from core.migrate import installed_versions

    installed = installed_versions()
    stale = [m.name for m in registry.manifests if installed.get(m.name) != m.version]
    if stale:
        raise CliError("数据库需要迁移 / database needs `huike migrate` for: " + ", ".join(stale))


@cli.command()
@data_dir_option
def demo(data_dir):
    """加载演示数据（事业部、部门、区域、用户） / load realistic Chinese demo data."""
    from core.demo import load_demo

    with open_registry(data_dir) as registry:
        _require_migrated(registry)
        for line in load_demo(registry):
            click.echo(line)


@cli.group()
def outbox():
    """发件箱：查看与重试死信 / outbox: list and retry dead letters."""


@outbox.command("list")
@data_dir_option
@click.option("--status", type=click.Choice(["pending", "done", "dead"]), default=None)
@click.option("--limit", type=click.IntRange(1, 10000), default=100, show_default=True)
def outbox_list(data_dir, status, limit):
    """列出消息 / list outbox messages (newest first)."""
    from core import outbox as ob

    with open_registry(data_dir):
        messages = ob.list_messages(status, limit)
    click.echo(f"{'ID':>6} {'STATUS':<8} {'TRIES':>5} {'TOPIC':<28} LAST ERROR")
    for m in messages:
        click.echo(f"{m.id:>6} {m.status:<8} {m.attempts:>5} {m.topic:<28} {m.last_error or ''}")


@outbox.command("retry")
@data_dir_option
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-dead", is_flag=True, help="重试全部死信 / retry every dead letter")
def outbox_retry(data_dir, ids, all_dead):
    """把死信放回队列 / put dead letters back in the queue."""
    from core import outbox as ob

    if not ids and not all_dead:
        raise CliError("请给出消息 ID 或 --all-dead / give message ids or --all-dead")
    with open_registry(data_dir):
        count = ob.retry(None if all_dead else ids)
    click.echo(f"已重新排队 {count} 条 / requeued {count} message(s)")
    if ids and count < len(ids):
        raise CliError(f"{len(ids) - count} 条不是死信或不存在 / were not dead letters or do not exist")


@cli.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--data-dir", default=None, type=click.Path(file_okay=False),
              help="压测临时安装的存放目录（默认新建临时目录，绝不使用现有安装） / where the "
                   "bench's throwaway installs go (default: a new temp folder; never an install)")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench(data_dir, args):
    """基准测试、压测与模糊测试 / benchmarks, load test and fuzzing.

    `huike bench [run|loadtest|fuzz|list] [OPTIONS]` is `python -m bench`: see
    `huike bench run --help` and docs/benchmarks.md."""
    from bench.cli import main as bench_main

    raise SystemExit(bench_main(list(args), workdir=data_dir))
