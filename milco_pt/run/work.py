"""The work folder of the run layer: every encoding, index and run file lives in a folder named
after a digest of everything that changes its result (model and weights, corpus, views, lengths,
case, pruning, scale, backend and its parameters), so a second experiment or table script that needs
the same thing finds it there instead of rebuilding it.

Layout: ``<work>/encodings/<label>-<digest>/`` (vector shards), ``<work>/indexes/<label>-<digest>/index``,
``<work>/runs/<label>-<digest>.run`` (TREC run files), ``<work>/corpora/`` (corpus fingerprints and
sizes), ``<work>/speeds.json`` (measured documents per second, for estimates). Each folder keeps the
settings it was made with in ``settings.json``.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Iterable, Optional, Union

SETTINGS = "settings.json"


def default_work() -> Path:
    """``$MILCO_PT_CACHE/work``, else ``~/.cache/milco-pt/work``."""
    return Path(os.environ.get("MILCO_PT_CACHE", Path.home() / ".cache" / "milco-pt")) / "work"


def digest(settings) -> str:
    """A short stable digest of JSON-able ``settings`` (key order does not matter)."""
    text = json.dumps(settings, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("_")[:60] or "x"


def write_json(path: Path, data):
    """Write ``data`` as JSON atomically (a killed writer leaves the old file or none)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path, default=None):
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else default


def files_digest(path: Union[str, Path]) -> str:
    """SHA-1 over the names and contents of a file or of every file below a folder (a weights hash)."""
    path = Path(path)
    h = hashlib.sha1()
    for f in sorted(p for p in ([path] if path.is_file() else path.rglob("*")) if p.is_file()):
        h.update(str(f.relative_to(path) if f != path else f.name).encode())
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                h.update(block)
    return h.hexdigest()[:16]


def tensors_digest(module) -> str:
    """SHA-1 over a torch module's state (names, shapes, bytes): the weights hash of a loaded model."""
    import torch
    h = hashlib.sha1()
    for name, t in sorted(module.state_dict().items()):
        t = t.detach().cpu().contiguous()
        h.update(f"{name}{tuple(t.shape)}{t.dtype}".encode())
        h.update(t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()[:16]


class Work:
    """A work folder (``--work DIR``; default :func:`default_work`)."""

    def __init__(self, root: Union[str, Path, None] = None):
        self.root = Path(root) if root else default_work()

    def __repr__(self):
        return f"Work({str(self.root)!r})"

    def folder(self, kind: str, label: str, settings: dict, create: bool = True) -> Path:
        """``<root>/<kind>/<label>-<digest(settings)>``, created with its ``settings.json``."""
        path = self.root / kind / f"{slug(label)}-{digest(settings)}"
        if create and not (path / SETTINGS).exists():
            path.mkdir(parents=True, exist_ok=True)
            write_json(path / SETTINGS, settings)
        return path

    def run_file(self, label: str, settings: dict) -> Path:
        path = self.root / "runs" / f"{slug(label)}-{digest(settings)}.run"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    # -- corpora: fingerprint and size, read once -------------------------------------------------

    def corpus(self, name: Optional[str], docs: Iterable[dict], cached_only: bool = False) -> Optional[dict]:
        """``{fingerprint, documents}`` of a corpus: a SHA-1 over its docnos and texts, computed in one
        streaming pass and remembered under ``name`` (a dataset name; ``None``: not remembered).
        Corpora with the same documents (e.g. every DDTP X->en task) share their encodings.
        ``cached_only``: ``None`` unless already known (a dry run reads no corpus)."""
        path = self.root / "corpora" / f"{slug(name)}-{digest(name)}.json" if name else None
        known = read_json(path) if path else None
        if known or cached_only:
            return known
        h, n = hashlib.sha1(), 0
        for n, doc in enumerate(docs, 1):
            h.update(f"{doc['docno']}\t{doc.get('title', '')}\t{doc.get('text', '')}\n".encode("utf-8"))
        info = {"name": name, "fingerprint": h.hexdigest()[:16], "documents": n}
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_json(path, info)
        return info

    # -- measured speeds, for the dry run's estimates ---------------------------------------------

    def speed(self, model_key: str) -> Optional[float]:
        return read_json(self.root / "speeds.json", {}).get(model_key)

    def record_speed(self, model_key: str, docs_per_s: float):
        self.root.mkdir(parents=True, exist_ok=True)
        speeds = read_json(self.root / "speeds.json", {})
        speeds[model_key] = round(docs_per_s, 2)
        write_json(self.root / "speeds.json", speeds)
