"""A real IMAP server for tests: Debian's dovecot on 127.0.0.1, in a temporary folder, with one user.

    with ImapServer(user="bounces", password="…") as server:
        server.deliver(b"…")                 # append a message to INBOX
        server.uids("Processed")             # what a folder holds

Nothing depends on a service of the machine: dovecot runs in the foreground with a config of its
own (no TLS, plain login on 127.0.0.1, maildir under the temporary folder). Every process of it runs
as one unprivileged user: the caller, or `nobody` (through runuser) when the tests run as root, since
dovecot will not keep mail as root.
"""

from __future__ import annotations

import getpass
import grp
import imaplib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from .smtp_server import free_port

DOVECOT = shutil.which("dovecot", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
SERVICES = ("anvil", "auth", "auth-worker", "config", "dict", "imap", "imap-login", "indexer-worker", "log", "stats")

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = publisher-test-{port}
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


class ImapServer:
    def __init__(self, user: str = "bounces", password: str = "imap-secret") -> None:
        assert DOVECOT, "dovecot is missing: bash tests/setup.sh (Debian package dovecot-imapd)"
        self.user, self.password = user, password
        self.host, self.port = "127.0.0.1", free_port()
        self.root = Path(tempfile.mkdtemp(prefix="publisher-imap-"))  # not pytest's: `nobody` must reach it
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ImapServer:
        as_root = os.geteuid() == 0
        runner = pwd.getpwnam("nobody") if as_root else pwd.getpwuid(os.geteuid())
        group = grp.getgrgid(runner.pw_gid).gr_name
        config = CONFIG.format(
            root=self.root, port=self.port, user=runner.pw_name, group=group, uid=runner.pw_uid, gid=runner.pw_gid
        )
        config += "".join(f"service {name} {{\n  user = {runner.pw_name}\n  chroot =\n}}\n" for name in SERVICES)
        for folder in ("run", "state", "mail"):
            (self.root / folder).mkdir()
        (self.root / "dovecot.conf").write_text(config)
        (self.root / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        if as_root:
            for path in [self.root, *self.root.rglob("*")]:
                os.chown(path, runner.pw_uid, runner.pw_gid)
        command = [DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")]
        if as_root:
            command = ["runuser", "-u", runner.pw_name, "--", *command]
        elif getpass.getuser() != runner.pw_name:
            raise AssertionError("cannot tell which user runs the tests")
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while True:
            try:
                self.client().logout()
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = (self.root / "dovecot.log").read_text() if (self.root / "dovecot.log").exists() else ""
                    stderr = self.process.stderr.read().decode() if self.process.poll() is not None else ""
                    self.__exit__()
                    raise AssertionError(f"dovecot did not start:\n{stderr}\n{log}") from None
                time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        client.login(self.user, self.password)
        return client

    def deliver(self, data: bytes, folder: str = "INBOX") -> None:
        client = self.client()
        try:
            status, reply = client.append(folder, None, None, data)
            assert status == "OK", reply
        finally:
            client.logout()

    def messages(self, folder: str = "INBOX") -> list[bytes]:
        """The messages in a folder, oldest first ([] when it does not exist)."""
        client = self.client()
        try:
            status, _ = client.select(f'"{folder}"', readonly=True)
            if status != "OK":
                return []
            _, data = client.uid("SEARCH", None, "ALL")
            found = []
            for uid in data[0].split():
                _, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
                found.append(next(part[1] for part in parts if isinstance(part, tuple)))
            return found
        finally:
            client.logout()
