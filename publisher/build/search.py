"""The search index: Pagefind (PyPI `pagefind-bin`, its binary inside the wheel) run over the notes,
one index a shard (render/search.py: a year, or a month of the newest year).

Each shard's index is an aggregate group of the build (pipeline.py): its key holds the content key
of every digest of that shard, the search template and Pagefind's version, so a build keeps the
index of every shard in which no note changed and runs the indexer over the changed shards' notes
only (Pagefind has no incremental mode: a digest added costs one month, not the archive). When it
runs, the documents of render/search.py go to it, and its bundle comes back, through pipes (its
service mode), never through files; the bundle becomes outputs under `pagefind/<shard>/`, which the
writer stages with everything else and swaps in at once. The search page merges the shards in the
browser (static/search.js). For the same documents and version, Pagefind writes the same bytes
(tests/test_search.py).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import functools
import json
import os
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from importlib import metadata

from ..digests.catalog import Catalog
from ..errors import Diagnostic, OutputError
from ..render import paths, search
from ..render.context import Context
from ..render.output import Group, Output, group_key

# Pagefind also writes its own search interfaces; the search page has its own (static/search.js).
_LEFT_OUT = ("pagefind-ui.", "pagefind-modular-ui.", "pagefind-component-ui.", "pagefind-highlight.")


@functools.lru_cache(maxsize=1)
def indexer_version() -> str:
    try:
        return metadata.version("pagefind-bin")
    except metadata.PackageNotFoundError:
        return "missing"


def search_groups(catalog: Catalog, context: Context, keys: Mapping[dt.date, str]) -> list[tuple[str, Group]]:
    """One group per shard, newest first, each with the folder its index is written to
    (`pagefind/<shard>`), keyed by the notes it indexes."""
    language = search.index_language(context.config.site.language)
    groups = []
    for shard in search.index_shards(catalog):
        digests, bundle = shard.digests, paths.search_bundle(shard.name)
        key = group_key("search", indexer_version(), language, bundle, *(keys[digest.date] for digest in digests))

        def make(_: object, digests: tuple = digests, bundle: str = bundle) -> list[Output]:
            return index(search.search_documents(digests, context), language, bundle)

        groups.append((bundle, Group(key, (), make, uses=(search.TEMPLATE,))))
    return groups


def index(documents: list[Output], language: str, bundle: str) -> list[Output]:
    """Pagefind's bundle for these documents, as outputs under `bundle`, sorted by path.

    Through Pagefind's service mode (`pagefind --service`, the protocol of its own Python and Node
    wrappers: base64 JSON messages, each closed by a comma), so that neither the documents nor the
    bundle touch the disk: writing them to a temporary folder and reading the bundle back cost more
    system time than the indexing itself (on ext4, creating files that replace files just deleted is
    slow). Its Python wrapper is not used: it waits 0.1 s before reading each reply, minutes for a
    year of notes. The service handles messages one at a time, in order, so everything is sent at
    once, by a thread (the replies must be read meanwhile, or both pipes fill): the new index, every
    document, then the request for the files, which comes after every document is in."""
    executable = _executable()
    # None of the PAGEFIND_* settings of the environment, and a working folder of its own: a pagefind.yml
    # or a variable of the person building must not change the index.
    env = {name: value for name, value in os.environ.items() if not name.upper().startswith("PAGEFIND_")}
    requests = [_message(0, {"type": "NewIndex", "config": {"force_language": language}})]
    for number, document in enumerate(documents, start=1):
        payload = {"type": "AddFile", "index_id": 0, "file_path": document.relpath}
        requests.append(_message(number, {**payload, "file_contents": document.data.decode("utf-8")}))
    requests.append(_message(len(documents) + 1, {"type": "GetFiles", "index_id": 0}))
    with tempfile.TemporaryDirectory(prefix="publisher-search-") as folder, tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            [executable, "--service"], cwd=folder, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors
        )
        sender = threading.Thread(target=_send, args=(process, requests), daemon=True)
        sender.start()
        try:
            files = _replies(process, documents)
        except BaseException:
            process.kill()  # it may be blocked on replies nobody reads any more, and the sender on it
            raise
        finally:
            sender.join()
            with contextlib.suppress(OSError):
                process.stdin.close()  # the service exits at the end of its input
            process.wait()
        if process.returncode != 0 or files is None:
            errors.seek(0)
            reason = errors.read().decode("utf-8", "replace").strip() or f"exit code {process.returncode}"
            raise OutputError(Diagnostic(executable, None, f"the search indexer failed: {reason}"))
    return sorted(
        (
            Output(f"{bundle}/{file['path'].lstrip('/')}", base64.b64decode(file["content"]))
            for file in files
            if not file["path"].lstrip("/").startswith(_LEFT_OUT)
        ),
        key=lambda output: output.relpath,
    )


def _message(number: int, payload: dict) -> bytes:
    return base64.b64encode(json.dumps({"message_id": number, "payload": payload}).encode("utf-8")) + b","


def _send(process: subprocess.Popen, requests: list[bytes]) -> None:
    with contextlib.suppress(OSError):  # the service died: its exit status and output tell why
        for request in requests:
            process.stdin.write(request)
        process.stdin.flush()


def _replies(process: subprocess.Popen, documents: list[Output]) -> list[dict] | None:
    """The bundle's files (path, base64 content), read from the service's replies; None when it
    stopped before sending them. A document it refused is an error naming the document."""
    pending = b""
    while True:
        chunk = process.stdout.read1(1 << 20)
        if not chunk:
            return None
        *replies, pending = (pending + chunk).split(b",")
        for reply in replies:
            message = json.loads(base64.b64decode(reply))
            payload = message.get("payload", {})
            if payload.get("type") == "Error":
                number = message.get("message_id") or 0
                where = documents[number - 1].relpath if 0 < number <= len(documents) else "the index"
                raise OutputError(Diagnostic(where, None, f"the search indexer failed: {payload.get('message')}"))
            if payload.get("type") == "GetFiles":
                return payload["files"]


def _executable() -> str:
    try:
        from pagefind_bin import get_executable

        return str(get_executable())
    except (ImportError, FileNotFoundError):
        raise OutputError(
            Diagnostic(
                "pagefind-bin", None, "the search indexer is not installed: python3 -m pip install 'pagefind[bin]'"
            )
        ) from None
