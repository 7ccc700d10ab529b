#!/usr/bin/env python3
"""The API contract test: schemathesis against a real server.

The OpenAPI document at /v1/openapi.json is the contract. This starts
`nexaguard serve` on a fresh data directory (HTTPS with its generated
certificate, the demo tenant and site), signs the demo owner in with a real
TOTP code, creates an API token of every role a token can have (with every
step-up scope the role allows), and runs schemathesis with all checks,
unauthenticated and then with each token. Any finding (a failure or an
error) fails the run; the findings are printed and the reports kept under
target/contract/.

Usage: python3 tests/contract/run.py [--max-examples N]
Needs: NEXAGUARD_BIN (default target/debug/nexaguard) and SCHEMATHESIS
(default: `schemathesis` on PATH), pinned in tests/contract/requirements.txt.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Every role an API token may have: owner and platform_operator may not
# (a token cannot give a second factor).
TOKEN_ROLES = ["admin", "editor", "publisher", "analyst", "auditor", "viewer"]
# Permissions a token carries only when asked for by name.
STEP_UP = ["manage_users", "manage_tokens", "promote_production", "rotate_keys"]


def fail(message: str) -> None:
    print(f"contract: {message}", file=sys.stderr)
    sys.exit(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def totp(secret_base32: str, at: float | None = None) -> str:
    """RFC 6238 with the server's parameters: SHA-1, 30 s, 6 digits."""
    key = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8))
    step = int((at if at is not None else time.time()) // 30)
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


class Server:
    """`nexaguard serve` on a fresh data directory and a free port."""

    def __init__(self, binary: Path, data_dir: Path) -> None:
        self.port = free_port()
        self.origin = f"https://localhost:{self.port}"
        self.data_dir = data_dir
        self.log = open(data_dir / "server.log", "w", encoding="utf-8")
        self.process = subprocess.Popen(
            [str(binary), "serve", "--demo", "--data-dir", str(data_dir / "data"),
             "--listen", f"127.0.0.1:{self.port}",
             # The fuzzer posts far faster than any visitor; rate limiting
             # has its own tests.
             "--rate-limit-per-minute", "1000000", "--rate-limit-burst", "1000000"],
            stdout=subprocess.PIPE, stderr=self.log, text=True,
            env={**os.environ, "NO_COLOR": "1", "RUST_LOG": "warn"},
        )
        self.owner: tuple[str, str] | None = None
        self._ready = threading.Event()
        threading.Thread(target=self._read_stdout, daemon=True).start()
        if not self._ready.wait(60) or self.owner is None:
            self.stop()
            fail(f"the server did not start; its log: {data_dir / 'server.log'}")
        self.cert = data_dir / "data" / "tls" / "cert.pem"

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.log.write(line)
            found = re.search(r"Demo owner:\s+(\S+) / (\S+)", line)
            if found:
                self.owner = (found.group(1), found.group(2))
            if line.startswith("  Health:"):
                self._ready.set()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Api:
    """Admin API calls as the console makes them (cookie, CSRF, Origin)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.context = ssl.create_default_context(cafile=str(server.cert))
        self.cookie: str | None = None
        self.csrf: str | None = None

    def call(self, method: str, path: str, body: dict | None = None,
             token: str | None = None) -> tuple[int, dict]:
        connection = http.client.HTTPSConnection(
            "localhost", self.server.port, context=self.context, timeout=30)
        headers = {"Origin": self.server.origin, "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        elif self.cookie:
            headers["Cookie"] = self.cookie
            if self.csrf and method != "GET":
                headers["X-CSRF-Token"] = self.csrf
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        connection.request(method, "/admin/api/v1" + path, body=data, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        connection.close()
        answer = json.loads(raw) if raw else {}
        if isinstance(answer, dict) and "csrfToken" in answer:
            self.csrf = answer["csrfToken"]
        return response.status, answer

    def expect(self, status: int, method: str, path: str, **kwargs) -> dict:
        got, answer = self.call(method, path, **kwargs)
        if got != status:
            fail(f"{method} {path}: expected {status}, got {got}: {answer}")
        return answer


def tokens_of_every_role(api: Api) -> dict[str, str]:
    """Signs the demo owner in, enrols TOTP, and creates one token a role."""
    email, password = api.server.owner  # type: ignore[misc]
    api.expect(200, "POST", "/session", body={"email": email, "password": password})
    enrolment = api.expect(200, "POST", "/mfa/enrolment", body={})
    api.expect(200, "POST", "/mfa/enrolment/confirm", body={"code": totp(enrolment["secret"])})
    tokens = {}
    for role in TOKEN_ROLES:
        scopes = list(STEP_UP)
        while True:
            status, answer = api.call("POST", "/tokens", body={
                "name": f"contract {role}", "role": role, "expiresInDays": 1,
                "stepUpScopes": scopes})
            if status == 201:
                tokens[role] = answer["secret"]
                break
            # The server names the one scope the role lacks; drop it and ask
            # again, so the role matrix lives in the server only.
            refused = [s for s in scopes if s in answer.get("error", {}).get("message", "")]
            if status != 422 or not refused:
                fail(f"creating a {role} token: {status} {answer}")
            scopes.remove(refused[0])
    return tokens


def demo_site(api: Api, token: str) -> dict:
    sites = api.expect(200, "GET", "/sites", token=token)
    if not sites:
        fail("the demo site is missing")
    return sites[0]


def schemathesis(binary: str, server: Server, name: str, parameters: str,
                 max_examples: int, reports: Path, token: str | None) -> bool:
    # The token as the document's `apiToken` scheme, not a bare header: the
    # ignored-auth check then knows what to take away or spoil.
    config = server.data_dir / f"{name}.toml"
    auth = f'[auth.openapi.apiToken]\nbearer = "{token}"\n' if token else ""
    config.write_text(parameters + auth, encoding="utf-8")
    command = [
        binary, "--config-file", str(config), "run", f"{server.origin}/v1/openapi.json",
        "--checks", "all", "--max-examples", str(max_examples),
        "--tls-verify", str(server.cert), "--seed", "1",
        "--report", "junit", "--report-junit-path", str(reports / f"{name}.xml"),
        "--no-color",
        # What a browser on the demo page sends; without it every consent
        # post would stop at the Origin check.
        "-H", f"Origin: {server.origin}",
    ]
    print(f"\n-- schemathesis as {name}", flush=True)
    started = time.monotonic()
    # In the scratch directory: schemathesis keeps a cache where it runs.
    result = subprocess.run(command, capture_output=True, text=True, cwd=config.parent)
    output = result.stdout + result.stderr
    (reports / f"{name}.log").write_text(output, encoding="utf-8")
    summary = [line for line in output.splitlines() if " in " in line and "=====" in line]
    print(summary[-1] if summary else output[-2000:], f"({time.monotonic() - started:.0f} s)")
    if result.returncode != 0:
        print(output, file=sys.stderr)
    return result.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=25)
    args = parser.parse_args()
    binary = Path(os.environ.get("NEXAGUARD_BIN", ROOT / "target/debug/nexaguard"))
    st = os.environ.get("SCHEMATHESIS") or shutil.which("schemathesis")
    if not binary.is_file():
        fail(f"no server binary at {binary}: run `cargo build -p nexaguard-cli`")
    if not st:
        fail("schemathesis not found: pip install -r tests/contract/requirements.txt")
    reports = ROOT / "target" / "contract"
    shutil.rmtree(reports, ignore_errors=True)
    reports.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="nexaguard-contract-") as scratch:
        server = Server(binary, Path(scratch))
        try:
            api = Api(server)
            tokens = tokens_of_every_role(api)
            site = demo_site(api, tokens["viewer"])
            # Known ids, so that the site's operations reach their logic
            # rather than answering 404 to random ones.
            parameters = (
                "[parameters]\n"
                f'"path.site" = "{site["id"]}"\n'
                f'"path.site_key" = "{site["productionKey"]}"\n'
                f'"query.siteKey" = "{site["productionKey"]}"\n')
            runs = [("unauthenticated", None)] + [(role, tokens[role]) for role in TOKEN_ROLES]
            failed = [name for name, token in runs
                      if not schemathesis(st, server, name, parameters, args.max_examples,
                                          reports, token)]
        finally:
            server.stop()
            shutil.copy(Path(scratch) / "server.log", reports / "server.log")
    if failed:
        fail(f"schemathesis found problems as {', '.join(failed)}; logs in {reports}")
    print(f"\ncontract: no findings in {len(runs)} runs; reports in {reports}")


if __name__ == "__main__":
    main()
