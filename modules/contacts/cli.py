"""`huike handover FROM_LOGIN TO_LOGIN[,TO_LOGIN] [--dry-run] --data-dir DIR` — 离职交接 from the
command line, acting as the system (the same service as `POST /api/v1/handover`)."""
from __future__ import annotations

import click

from core.cli.common import CliError, data_dir_option, open_registry
from core.web.base import APIError


def _print(result: dict, dry_run: bool) -> None:
    receivers = ", ".join(u["login"] for u in result["to"])
    head = "预览 / preview" if dry_run else "已交接 / handed over"
    click.echo(f"{head}: {result['from']['login']} → {receivers}")
    for item in result["counts"]:
        click.echo(f"  {item['label']}: {item['count']}")
    click.echo(f"  total: {result['total']}")
    if not dry_run:
        for login, count in result["per_receiver"].items():
            click.echo(f"  → {login}: {count}")
        click.echo(f"用户 {result['from']['login']} 已停用 / user disabled")


@click.command("handover")
@click.argument("from_login")
@click.argument("to_logins")
@click.option("--dry-run", is_flag=True, help="只显示将移交的数量 / only show the counts")
@data_dir_option
def handover_command(from_login: str, to_logins: str, dry_run: bool, data_dir) -> None:
    """离职交接：把 FROM_LOGIN 的客户、商机、线索与待办移交给 TO_LOGIN（逗号分隔可多人，轮流分配），
    并停用 FROM_LOGIN / hand a departing user's records over and disable them."""
    from modules.contacts import handover
    from security.context import system_context

    receivers = [part.strip() for part in to_logins.split(",") if part.strip()]
    with open_registry(data_dir) as registry:
        ctx = system_context(registry, via="cli")
        try:
            if dry_run:
                result = handover.preview(ctx, from_login, receivers)
            else:
                result = handover.execute(ctx, from_login, receivers)
        except APIError as exc:
            detail = "; ".join(f"{k}: {v}" for k, v in exc.fields.items()) if exc.fields else ""
            raise CliError(exc.message + (f" ({detail})" if detail else "")) from None
    _print(result, dry_run)
