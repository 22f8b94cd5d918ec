"""`huike import leads FILE` — import leads from CSV (UTF-8 or GBK) or XLSX with a progress bar.

    huike import leads 展会名单.csv --division IA --policy merge --data-dir /srv/huike
    huike import leads leads.xlsx --mapping 展会模板 --dry-run --data-dir /srv/huike

Acts as the system (the same service as `POST /api/v1/leads/imports`). Running the same
command again after an interruption resumes the unfinished run; after a finished one it
creates nothing new. Exit status 2 on bad input (missing, oversize or unreadable file,
unknown division, owner, mapping or policy, no name column).
"""
from __future__ import annotations

import time
from pathlib import Path

import click

from core.cli.common import CliError, data_dir_option, open_registry
from core.web.base import APIError


def _division(code: str | None):
    from modules.base.models import Division

    if code:
        found = Division.get_or_none(Division.code == code)
        if found is None:
            raise CliError(f"没有事业部 {code} / no division {code!r}")
        return found
    divisions = list(Division.select().limit(2))
    if len(divisions) != 1:
        raise CliError("请用 --division 指定事业部 / name the division with --division CODE")
    return divisions[0]


def _owner(login: str | None) -> int | None:
    from modules.base.models import User

    if not login:
        return None
    user = User.get_or_none((User.login == login) & (User.active == True))  # noqa: E712
    if user is None:
        raise CliError(f"没有在职用户 {login} / no active user {login!r}")
    return user.id


def _summary(run, seconds: float) -> None:
    head = "预演 / dry run" if run.dry_run else "导入完成 / imported"
    rate = run.processed / seconds if seconds > 0 else 0
    click.echo(f"{head} #{run.id}: {run.processed} 行 / rows ({rate:,.0f} rows/s)")
    click.echo(f"  新建 / created: {run.created}   合并 / merged: {run.merged}   "
               f"跳过 / skipped: {run.skipped}   错误 / failed: {run.failed}")
    if run.error_report:
        click.echo(f"  错误报告 / error report: {run.error_report}")


@click.command("leads")
@click.argument("file", metavar="FILE")
@click.option("--mapping", "mapping_name", default=None, help="已保存的列映射 / saved mapping")
@click.option("--policy", type=click.Choice(["skip", "merge", "create"]), default="skip",
              show_default=True, help="重复线索 / duplicates: skip, merge or create")
@click.option("--dry-run", is_flag=True, help="只检查，不写入 / check only, write nothing")
@click.option("--division", "division_code", default=None, help="事业部代码 / division code")
@click.option("--owner", "owner_login", default=None, help="负责人登录名 / owner login")
@click.option("--batch-size", type=click.IntRange(1, 50_000), default=None,
              help="每批行数 / rows per transaction")
@data_dir_option
def import_leads(file, mapping_name, policy, dry_run, division_code, owner_login, batch_size,
                 data_dir) -> None:
    """从 CSV/XLSX 导入线索 / import leads from a CSV or XLSX file."""
    from modules.leads.importer import service
    from modules.leads.importer.run import execute
    from security.context import system_context

    path = Path(file)
    if not path.is_file():
        raise CliError(f"找不到文件 / no such file: {file}")
    with open_registry(data_dir) as registry:
        ctx = system_context(registry, via="import")
        division = _division(division_code)
        options = {"policy": policy, "dry_run": dry_run, "mapping": mapping_name,
                   "owner": _owner(owner_login)}
        try:
            run, resumed = service.start(ctx, path.resolve(), path.name, options, division.id)
        except APIError as exc:
            raise CliError(exc.message) from None
        if resumed:
            click.echo(f"继续未完成的导入 #{run.id}（已处理 {run.processed} 行）/ resuming run "
                       f"#{run.id} after {run.processed} rows")
        started = time.perf_counter()
        with click.progressbar(length=max(run.total, 1), label="导入 / importing") as bar:
            bar.update(run.processed)

            def progress(done: int, total: int) -> None:
                bar.update(done - bar.pos)

            try:
                result = execute(ctx, run.id, progress, batch_size)
            except APIError as exc:
                raise CliError(exc.message) from None
        if result is None:
            raise CliError(f"导入 #{run.id} 正由另一进程执行 / run #{run.id} is being executed "
                           "by another process")
        _summary(result, time.perf_counter() - started)


def register(group: click.Group) -> None:
    """Add `import leads` to `huike`, creating the `import` group if no module did yet."""
    command = group.commands.get("import")
    if command is None:
        command = click.Group("import", help="导入数据 / import data")
        group.add_command(command)
    command.add_command(import_leads)
