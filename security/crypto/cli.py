"""`huike keys status|rotate`: inspect data keys and re-encrypt under a new key version."""
from __future__ import annotations

import click

from core.cli.common import CliError, data_dir_option, open_registry

MAX_LISTED_FAILURES = 10


@click.group()
def keys():
    """加密密钥：状态与轮换 / encryption keys: status and rotation."""


def _checked_keyring(registry):
    from security.crypto.binding import check_keys
    from security.crypto.errors import KeyringError

    try:
        return check_keys(registry)
    except KeyringError as exc:
        raise CliError(str(exc)) from exc


@keys.command("status")
@data_dir_option
def keys_status(data_dir):
    """数据密钥版本及各版本的密文数量 / data-key versions and how many values each holds."""
    from security.crypto.models import DataKey
    from security.crypto.rotation import version_counts

    with open_registry(data_dir) as registry:
        keyring = _checked_keyring(registry)
        click.echo(f"主密钥 / master key: {keyring.provider.describe()} (OK)")
        click.echo(f"{'PURPOSE':<8} {'VERSION':>7}  {'CREATED (UTC)':<19}  STATE")
        active = {p: keyring.active_version(p) for p in ("enc", "index")}
        for row in DataKey.select().order_by(DataKey.purpose, DataKey.version):
            state = "active" if active[row.purpose] == row.version else "retired"
            if row.rotated_at is None:
                state += ", rotation unfinished"
            click.echo(f"{row.purpose:<8} {row.version:>7}  "
                       f"{row.created_at:%Y-%m-%d %H:%M:%S}  {state}")
        counts = version_counts(registry.models, keyring.versions("enc"))
        if not counts:
            click.echo("没有加密字段 / no encrypted fields are registered")
        for entry in counts:
            parts = [f"v{v}={n}" for v, n in entry["versions"].items()]
            if entry["unknown"]:
                parts.append(f"unversioned={entry['unknown']}")
            click.echo(f"{entry['table']}.{entry['column']}: {' '.join(parts)}")


@keys.command("rotate")
@data_dir_option
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=500, show_default=True,
              help="每批提交的行数 / rows per committed batch")
def keys_rotate(data_dir, batch_size):
    """新建数据密钥版本并重新加密全部数据（可在线运行，中断后重跑即可续做） /
    create a new data-key version and re-encrypt everything (online; rerun to resume)."""
    from security.crypto.rotation import begin_rotation, encrypted_targets, pending_count, rotate

    with open_registry(data_dir) as registry:
        keyring = _checked_keyring(registry)
        version, resumed = begin_rotation(keyring)
        targets = encrypted_targets(registry.models)
        total = sum(pending_count(t, version) for t in targets)
        verb = "继续轮换 / resuming rotation" if resumed else "新数据密钥 / new data key"
        click.echo(f"{verb} v{version}: {total} rows to re-encrypt in {len(targets)} table(s)")
        with click.progressbar(length=total, label="重新加密 / re-encrypting",
                               show_pos=True) as bar:
            result = rotate(keyring, registry.models, batch_size=batch_size,
                            begun=(version, resumed), on_batch=lambda _table, n: bar.update(n))
    if result.failures:
        listed = [f"{t}.{c} id={pk}: {reason}" for (t, pk, c), reason
                  in list(result.failures.items())[:MAX_LISTED_FAILURES]]
        raise CliError(f"{len(result.failures)} 个值无法解密，轮换未完成 / values could not be "
                       f"decrypted; rotation to v{version} is unfinished:\n  "
                       + "\n  ".join(listed))
    if not result.complete:
        raise CliError(f"数据仍在变化，轮换未完成，请重跑 / rows kept changing during the rotation to "
                       f"v{version}; rerun `huike keys rotate` to finish")
    click.echo(f"完成 / done: {result.reencrypted} rows re-encrypted with v{version}")
