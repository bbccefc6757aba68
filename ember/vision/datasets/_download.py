"""Fetching dataset files from their official mirrors: short timeouts, md5 checks, never a hang."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 30.0


def md5sum(path: str) -> str:
    """The file's md5 as hex."""
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def reachable(url: str, timeout: float = CONNECT_TIMEOUT_S) -> bool:
    """Whether a TCP connection to the url's host opens within timeout (name lookup included)."""
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    ok = []

    def probe() -> None:
        try:
            socket.create_connection((parts.hostname, port), timeout=timeout).close()
            ok.append(True)
        except OSError:
            pass

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout + 1.0)  # a stuck name lookup cannot hold us past this
    return bool(ok)


def fetch(url: str, dest: str, md5: str | None) -> None:
    """Download url to dest (via a temp file) and check its md5; raises OSError / RuntimeError on failure."""
    tmp = dest + ".part"
    req = urllib.request.Request(url, headers={"User-Agent": "ember"})
    with urllib.request.urlopen(req, timeout=READ_TIMEOUT_S) as r, open(tmp, "wb") as f:
        shutil.copyfileobj(r, f)
    if md5 is not None and md5sum(tmp) != md5:
        os.remove(tmp)
        raise RuntimeError(f"md5 mismatch for {url}")
    os.replace(tmp, dest)


def gunzip(src: str, dest: str) -> None:
    """Decompress a .gz file next to it."""
    with gzip.open(src, "rb") as fi, open(dest, "wb") as fo:
        shutil.copyfileobj(fi, fo)


def download_resources(mirrors: list[str], resources: list[tuple[str, str]], folder: str) -> list[str]:
    """Fetch each (file.gz, md5) from the first mirror that serves it and unpack it; returns the errors."""
    os.makedirs(folder, exist_ok=True)
    live = [m for m in mirrors if reachable(m)]
    errors = [f"{m}: not reachable" for m in mirrors if m not in live]
    for name, md5 in resources:
        dest = os.path.join(folder, name)
        for mirror in live:
            try:
                fetch(mirror + name, dest, md5)
                gunzip(dest, os.path.splitext(dest)[0])
                break
            except (OSError, RuntimeError, urllib.error.URLError, EOFError) as e:
                errors.append(f"{mirror}{name}: {e}")
        else:
            errors.append(f"{name}: no mirror served it")
            return errors
    return []
