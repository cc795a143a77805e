"""A throwaway PostgreSQL cluster for tests: initdb into a temp dir, pg_ctl start on 127.0.0.1.

`PgCluster.start()` finds the server binaries (PATH, then /usr/lib/postgresql/*/bin, newest
first), creates a cluster in a fresh directory, starts it on a free 127.0.0.1 port with its unix
socket inside that directory, and returns the cluster; `stop()` shuts it down and removes the
directory. PostgreSQL refuses to run as root, so when the tests run as root the server binaries run
as the `postgres` OS user (created if missing) and the directory is chowned to it.

Any failure raises `PgUnavailable` with a one-line reason the caller turns into a skip.

The cluster lives in its own `tempfile.mkdtemp()` directory rather than a pytest tmp dir: pytest's
base dir (/tmp/pytest-of-root) is mode 0700, so the `postgres` user could not reach inside it.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SUPERUSER = "postgres"  # the cluster's bootstrap superuser; trusted over the unix socket only


class PgUnavailable(RuntimeError):
    """PostgreSQL cannot be run here; the message says why (used as a pytest skip reason)."""


def find_bindir() -> Path:
    """Directory holding initdb and pg_ctl: PATH first, then /usr/lib/postgresql/<newest>/bin."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(os.path.realpath(on_path)).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
        reverse=True,
    )
    for initdb in candidates:
        bindir = Path(initdb).parent
        if (bindir / "pg_ctl").exists():
            return bindir
    raise PgUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in /usr/lib/postgresql/*/bin; "
        "install them with: apt-get install postgresql"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_user() -> pwd.struct_passwd | None:
    """The OS user to run the server as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        pass
    useradd = shutil.which("useradd")
    if not useradd:
        raise PgUnavailable("running as root, no 'postgres' OS user and no useradd to create one")
    result = subprocess.run(
        [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise PgUnavailable(f"cannot create the 'postgres' OS user: {result.stderr.strip()}")
    return pwd.getpwnam("postgres")


@dataclass
class PgCluster:
    bindir: Path
    root: Path
    port: int
    user: pwd.struct_passwd | None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.root / "server.log"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root

    def superuser_conninfo(self, dbname: str = "postgres") -> str:
        """libpq conninfo for the superuser over the unix socket (trust auth, no password)."""
        return f"host={self.socket_dir} port={self.port} user={SUPERUSER} dbname={dbname}"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        kwargs = {}
        if self.user is not None:
            kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C"}
        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            cwd=self.root,  # the server user may not be allowed into the caller's cwd
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            **kwargs,
        )

    @classmethod
    def start(cls, attempts: int = 3) -> "PgCluster":
        bindir = find_bindir()
        user = _server_user()
        root = Path(tempfile.mkdtemp(prefix="rag-pg-"))
        cluster = cls(bindir=bindir, root=root, port=0, user=user)
        try:
            if user is not None:
                os.chown(root, user.pw_uid, user.pw_gid)
            result = cluster._run(
                "initdb", "-D", str(cluster.data), "-U", SUPERUSER, "-E", "UTF8", "--no-locale",
                "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync",
            )  # fmt: skip
            if result.returncode != 0:
                raise PgUnavailable(f"initdb failed: {_last_line(result.stderr or result.stdout)}")
            for _ in range(attempts):  # a free port can be taken between probing and binding
                cluster.port = free_port()
                options = (
                    f"-p {cluster.port} -k {cluster.socket_dir} -c listen_addresses=127.0.0.1 "
                    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                )
                result = cluster._run(
                    "pg_ctl", "start", "-D", str(cluster.data), "-l", str(cluster.log), "-w", "-t", "60", "-o", options
                )
                if result.returncode == 0:
                    return cluster
            raise PgUnavailable(f"pg_ctl start failed: {_last_line(cluster.read_log() or result.stderr)}")
        except (OSError, subprocess.SubprocessError) as exc:
            cluster.stop()
            raise PgUnavailable(f"cannot start PostgreSQL: {exc}") from exc
        except PgUnavailable:
            cluster.stop()
            raise

    def read_log(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", "30")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _last_line(text: str) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"
