"""`huike audit verify|tail`."""
from __future__ import annotations

import json

import click

from core.cli.common import data_dir_option, open_registry

EXIT_BROKEN = 1  # distinct from CliError's 2 (usage/config problems)


@click.group()
def audit():
    """审计日志 / audit log."""


@audit.command("verify")
@data_dir_option
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=2000, show_default=True,
              help="每批读取条数 / entries read per query")
@click.option("--json", "as_json", is_flag=True, help="JSON 输出 / print JSON")
def audit_verify(data_dir, batch_size, as_json):
    """校验审计哈希链 / verify the audit hash chain; exit 1 naming the first broken entry."""
    from security.audit.verify import verify

    with open_registry(data_dir):
        result = verify(batch_size=batch_size)
    click.echo(json.dumps(result.as_dict(), ensure_ascii=False) if as_json else result.summary())
    if not result.ok:
        raise click.exceptions.Exit(EXIT_BROKEN)


@audit.command("tail")
@data_dir_option
@click.option("-n", "count", type=click.IntRange(1, 10_000), default=20, show_default=True,
              help="条数 / number of entries")
@click.option("--json", "as_json", is_flag=True, help="每行一条 JSON / one JSON object per line")
def audit_tail(data_dir, count, as_json):
    """显示最近的审计记录 / show the latest audit entries, oldest first."""
    from security.audit.queries import entry_dict, tail

    with open_registry(data_dir):
        rows = [entry_dict(entry) for entry in tail(count)]
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
            continue
        target = f"{row['model']}#{row['res_id']}" if row["model"] else "-"
        details = json.dumps(row["details"], ensure_ascii=False) if row["details"] else ""
        click.echo(f"{row['seq']:>8} {row['at']} {row['actor_login'] or '-':<16} "
                   f"{row['action']:<18} {target} {details}".rstrip())
