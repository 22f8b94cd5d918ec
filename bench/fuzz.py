"""API fuzzing with schemathesis against a live server on loopback.

    python -m bench fuzz                                    # the long run (see docs/benchmarks.md)
    python -m bench fuzz --max-examples 5 --phases fuzzing  # about CI's (tests/test_fuzz.py)
    python -m bench fuzz --database postgresql://postgres@127.0.0.1:5432/test

The run signs in as the administrator (password + TOTP enrolment, through the API), mints an
API token, downloads `/api/v1/openapi.json`, and runs `schemathesis run` on every operation
with the checks `not_a_server_error` (any 5xx fails) and `response_schema_conformance` (every
error body must be `{"error": {"code", "message", "fields"}}`, and declared success bodies their
schema). Exit status 0 means no failure.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import requests

CHECKS = "not_a_server_error,response_schema_conformance"
SHORT = {"max_examples": 5, "phases": "fuzzing", "seed": 20260}


@dataclass
class FuzzResult:
    returncode: int
    output: str
    operations: int

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def fetch_schema(base_url: str, token: str, path: Path) -> dict:
    answer = requests.get(f"{base_url}/api/v1/openapi.json",
                          headers={"Authorization": f"Bearer {token}"}, timeout=30)
    answer.raise_for_status()
    document = answer.json()
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return document


def protections(user_id: int, token_id: int) -> list[dict]:
    """Operations that would end the fuzzer's own access (see bench.fuzz_hooks)."""
    return [
        {"method": "PATCH", "path": "/api/v1/users/{user_id}", "param": "user_id",
         "value": user_id},
        {"method": "DELETE", "path": "/api/v1/auth/tokens/{token_id}", "param": "token_id",
         "value": token_id},
    ]


def command(schema_path: Path, base_url: str, token: str, *, max_examples: int, phases: str,
            seed: int | None, workers: int = 1, max_time: int | None = None) -> list[str]:
    argv = [sys.executable, "-m", "schemathesis.cli", "run", str(schema_path),
            "--url", base_url, "--header", f"Authorization: Bearer {token}",
            "--checks", CHECKS, "--max-examples", str(max_examples), "--phases", phases,
            "--workers", str(workers), "--generation-database", "none",
            "--suppress-health-check", "all", "--request-timeout", "60", "--no-color",
            "--output-truncate", "true"]
    if seed is not None:
        argv += ["--seed", str(seed)]
    if max_time:
        argv += ["--max-time", str(max_time)]
    return argv


def run_schemathesis(base_url: str, token: str, *, user_id: int, token_id: int,
                     max_examples: int = 5, phases: str = "fuzzing", seed: int | None = 20260,
                     workers: int = 1, max_time: int | None = None, echo: bool = False,
                     timeout: float | None = None) -> FuzzResult:
    """Run the schemathesis CLI against `base_url`; return its exit status and output."""
    with tempfile.TemporaryDirectory(prefix="huike-fuzz-") as tmp:
        schema_path = Path(tmp) / "openapi.json"
        document = fetch_schema(base_url, token, schema_path)
        operations = sum(len([m for m in item if m != "parameters"])
                         for item in document["paths"].values())
        env = {**os.environ, "SCHEMATHESIS_HOOKS": "bench.fuzz_hooks",
               "HUIKE_FUZZ_PROTECT": json.dumps(protections(user_id, token_id)),
               "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parent.parent),
                                              os.environ.get("PYTHONPATH", "")])}
        argv = command(schema_path, base_url, token, max_examples=max_examples, phases=phases,
                       seed=seed, workers=workers, max_time=max_time)
        process = subprocess.Popen(argv, cwd=tmp, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if echo:
                print(line, end="", flush=True)
        returncode = process.wait(timeout)
    return FuzzResult(returncode, "".join(lines), operations)


def load_demo(inst) -> list[str]:
    """`huike demo` on the install (divisions, users, accounts, deals ...), in this process."""
    from bench.stack import open_registry
    from core.db import database
    from core.demo import load_demo as load

    registry = open_registry(inst)
    try:
        return load(registry)
    finally:
        database.close()


def main(argv: list[str] | None = None) -> int:
    from bench import session, stack

    parser = argparse.ArgumentParser(prog="python -m bench fuzz",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="sqlite",
                        help="sqlite (default) or a postgresql:// URL (a fresh schema is used)")
    parser.add_argument("--max-examples", type=int, default=100, help="cases per operation")
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful")
    parser.add_argument("--seed", type=int, default=None, help="default: random")
    parser.add_argument("--workers", type=int, default=1,
                        help="schemathesis workers (more than one: hypothesis internal errors)")
    parser.add_argument("--max-time", type=int, default=None, help="seconds for the whole run")
    parser.add_argument("--processes", type=int, default=2, help="server processes")
    parser.add_argument("--no-demo", action="store_true",
                        help="fuzz an empty install (default: load the demo data first, so "
                             "ids in paths find records)")
    args = parser.parse_args(argv)
    with stack.install(args.database) as inst:
        if not args.no_demo:
            load_demo(inst)
        with stack.Server.huike(inst, processes=args.processes) as server:
            http, _ = session.sign_in(server.base_url, stack.ADMIN_LOGIN, stack.ADMIN_PASSWORD)
            me = http.get(f"{server.base_url}/api/v1/auth/me", timeout=30).json()["user"]
            token_id, token = session.mint_token(http, server.base_url, "fuzz")
            result = run_schemathesis(server.base_url, token, user_id=me["id"],
                                      token_id=token_id, max_examples=args.max_examples,
                                      phases=args.phases, seed=args.seed, workers=args.workers,
                                      max_time=args.max_time, echo=True)
            errors = server.errors()
    print(f"\n{result.operations} operations; schemathesis exit status {result.returncode}; "
          f"{len(errors)} unhandled server errors logged")
    for line in errors[:50]:
        print("  " + line)
    return result.returncode
