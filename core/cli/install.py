"""`huike init`: a new data dir with config, database, master key and first admin."""
from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

import tomli_w

from core.cli.common import CliError
from core.config import CONFIG_FILE, load_settings, resolve_data_dir

KEY_BYTES = 32


def write_master_key(path: Path) -> bool:
    """Create a random 256-bit master key file readable only by its owner (0600).
    An existing key is never overwritten: it may be the only way to read encrypted data."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode() + "\n")
    os.chmod(path, 0o600)
    return True


def _existing_install(data_dir: Path) -> list[str]:
    return [name for name in (CONFIG_FILE, "huike.db") if (data_dir / name).exists()]


def initialise(data_dir, *, key_file=None, admin_login="admin", admin_password: str,
               database_url=None, force=False) -> list[str]:
    """Create (or with `force`, re-configure) an install; return report lines."""
    from core.db import connection
    from core.migrate import migrate_all
    from core.registry import Registry
    from modules.base import services
    from modules.base.models import User
    from security.passwords import PasswordPolicyError, check_policy

    path = resolve_data_dir(data_dir)
    found = _existing_install(path)
    if found and not force:
        raise CliError(f"{path} 已有安装（{', '.join(found)}），未做任何修改；如确需重新初始化请加 "
                       f"--force / {path} already holds an install ({', '.join(found)}); "
                       "nothing was changed. Use --force to re-initialise it")
    try:
        check_policy(admin_password, 10, admin_login)
    except PasswordPolicyError as exc:
        raise CliError(f"管理员密码不符合策略 / admin password rejected: {exc}") from exc
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    config: dict = {"server": {"port": 8800}, "security": {}, "database": {}}
    key_path = Path(key_file).expanduser().resolve() if key_file else path / "master.key"
    if key_file:
        config["security"]["key_file"] = str(key_path)
    if database_url:
        config["database"]["url"] = database_url
    (path / CONFIG_FILE).write_text(
        "# 汇客配置 / Huike settings. Environment variables HUIKE_<SECTION>_<KEY> override.\n"
        + tomli_w.dumps(config), encoding="utf-8")
    key_created = write_master_key(key_path)
    registry = Registry.build(load_settings(path))
    with connection():
        results = migrate_all(registry)
        admin = User.get_or_none(User.login == admin_login)
        if admin is None:
            services.create_user(admin_login, "系统管理员", admin_password, is_admin=True)
            admin_line = f"管理员 / admin {admin_login!r} created"
        else:
            services.set_password(admin, admin_password)
            admin.is_admin, admin.active = True, True
            admin.save()
            admin_line = f"管理员 / admin {admin_login!r} password reset"
    return [
        f"数据目录 / data dir: {path}",
        f"数据库 / database: {registry.settings.database_url.split('@')[-1]}",
        f"主密钥 / master key: {key_path} ({'created' if key_created else 'kept existing'}, 0600)",
        *[f"模块 / module {name}: {outcome}" for name, outcome in results],
        admin_line,
    ]
