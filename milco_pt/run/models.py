"""The encoders a run may use, named by kind (``milco``, ``milco-mini``, ``m3-sparse``, ``m3-dense``,
``splade``, ``e5``), loaded on first use, each with a key of everything that fixes its vectors (the
model id and revision or a hash of its weights, lengths, case, views, device), which names its
encodings in the work folder."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import pandas as pd

from .work import files_digest, tensors_digest

#: kind -> (module, class) of the baselines
BASELINES = {"m3-sparse": ("M3Sparse", "m3"), "m3-dense": ("M3Dense", "m3"), "splade": ("Splade", "splade"),
             "e5": ("E5", "e5")}
#: settings of an encoder that do not change its vectors (batching changes them by float rounding at most)
NEUTRAL = {"batch_size", "verbose", "device", "text_field", "token_budget"}


def _device() -> str:
    import torch
    return "cuda" if torch.cuda.is_available() else "cpu"


def packaged(name) -> Optional[Path]:
    """The weights file of a model shipped inside the package under ``name`` (milco-mini), else None."""
    from .. import mini
    return mini.SHIPPED_DELTA if str(name) == mini.NAME and mini.SHIPPED_DELTA.exists() else None


class Model:
    """One encoder: a source (hub id, folder, delta file or a loaded encoder) and its kind."""

    def __init__(self, kind: str, source, batch_size: int = 32, revision: Optional[str] = None,
                 options: Optional[dict] = None, loaded=None):
        """``loaded``: the encoder ``from_pretrained(source)`` gives, already loaded by the caller (a
        table script): used instead of loading a second copy, while the key stays the source's, so
        the script shares encodings with ``milco-pt experiment --model SOURCE`` (e.g. ``--encode-only``)."""
        self.kind, self.source, self.batch_size, self.revision = kind, source, batch_size, revision
        self.options = dict(options or {})  # constructor settings, e.g. doc_max_length (part of the key)
        self._loaded = loaded if loaded is not None or isinstance(source, (str, Path)) or source is None else source
        self._key: Optional[dict] = None

    def __repr__(self):
        return f"Model({self.kind!r}, {self.label!r})"

    @property
    def label(self) -> str:
        if isinstance(self.source, (str, Path)):
            return Path(self.source).name if Path(self.source).exists() else str(self.source)
        return getattr(self._loaded, "name", None) or self.kind

    def load(self):
        """The encoder (loaded once)."""
        if self._loaded is None:
            self._require()
            self._loaded = self._load()
        return self._loaded

    def _require(self):
        if self.source is None:
            raise ValueError(f"the {self.kind} systems need a model: pass --model (a hub id or a checkpoint folder)")

    def _load(self):
        if self.kind.startswith("milco"):  # milco-mini: its name or a delta path, through the one loader
            from ..milco import Milco
            m = Milco.from_pretrained(str(self.source), revision=self.revision, batch_size=self.batch_size,
                                      **self.options)
            m.query_cache = {}  # its systems (both views, pivot only, pruning) encode a query once
            return m
        from .. import baselines
        cls = getattr(baselines, BASELINES[self.kind][0])
        return cls.from_pretrained(str(self.source), revision=self.revision, batch_size=self.batch_size, **self.options)

    def key(self) -> dict:
        """What fixes this model's vectors: its id and revision, or a hash of its weights (a local
        folder or file, a loaded model), its non-default settings and the device type."""
        if self._key is None:
            self._require()
            key = {"kind": self.kind, "device": _device(),
                   "options": {k: v for k, v in self.options.items() if k not in NEUTRAL}}
            if not isinstance(self.source, (str, Path)):  # a model object: what its weights are now
                m = self._loaded
                key.update(model=getattr(m, "name", None) or type(m).__name__,
                           weights=tensors_digest(m.model),
                           settings={k: v for k, v in getattr(m, "_kwargs", {}).items() if k not in NEUTRAL})
            elif Path(self.source).exists():  # the same key whether or not it is loaded yet
                key.update(model=str(Path(self.source).resolve()), weights=files_digest(self.source))
            elif (shipped := packaged(self.source)) is not None:  # a model shipped in the package, by name:
                key.update(model=str(self.source), weights=files_digest(shipped))  # a new release, a new key
            else:
                key.update(model=str(self.source), revision=self.revision or "main")
            self._key = key
        return self._key

    # -- documents --------------------------------------------------------------------------------

    def doc_columns(self) -> list[str]:
        """The columns of an encoding: MILCO's views and their combination, else the model's own."""
        m = self.load()
        if self.kind.startswith("milco"):
            from ..milco import DOC_COLUMNS
            return [DOC_COLUMNS[v] for v in m.views] + ["combined"]
        return [m.doc_column]

    def doc_encoder(self, verbose: bool = False):
        m = self.load()
        if self.kind.startswith("milco"):
            return m.doc_encoder(outputs=(*m.views, "combined"), verbose=verbose)
        return m.doc_encoder(verbose=verbose)

    #: ``None``; ``True``: look for prebuilt document vectors (:mod:`milco_pt.run.prebuilt`) when
    #: :meth:`encode_fn` is first called, used only if their digests say they are this model's; then
    #: the records by text digest, and only the texts they lack are encoded
    prebuilt = None

    def encode_fn(self, verbose: bool = False):
        """``texts -> records of doc_columns()`` (dense vectors as lists), for :mod:`milco_pt.sharding`;
        ``verbose``: a progress bar of each shard's batches."""
        enc, columns = self.doc_encoder(verbose), self.doc_columns()

        def encode_all(texts: list[str]) -> list[dict]:
            out = enc(pd.DataFrame({"docno": [str(i) for i in range(len(texts))], "text": texts}))
            return [{c: (v.tolist() if hasattr(v, "tolist") else v) for c, v in zip(columns, row)}
                    for row in zip(*(out[c] for c in columns))]

        def encode(texts: list[str]) -> list[dict]:
            if self.prebuilt is True:
                from .prebuilt import attach
                if attach(self):
                    print(f"{self.kind}: using prebuilt document vectors where the texts match "
                          f"(milco_pt.run.prebuilt, checked by digest)", flush=True)
                else:
                    self.prebuilt = None
            if self.prebuilt is None:
                return encode_all(texts)
            from .prebuilt import text_key
            found = [self.prebuilt.get(text_key(t)) for t in texts]
            todo = [i for i, rec in enumerate(found) if rec is None]
            for i, rec in zip(todo, encode_all([texts[i] for i in todo]) if todo else []):
                found[i] = rec
            return [{c: rec[c] for c in columns} for rec in found]
        return encode


class Models:
    """Every kind's :class:`Model` for one run: MILCO from ``milco`` (a hub id, folder or loaded
    :class:`~milco_pt.Milco`), milco-mini from ``mini`` (default: the shipped delta), the baselines
    from their hub ids or folders; ``options``: kind -> constructor settings (e.g. ``{"e5": {"doc_max_length": 256}}``);
    ``milco_loaded``: ``milco``'s model already loaded by the caller (see :class:`Model`)."""

    def __init__(self, milco=None, mini=None, m3: str = "BAAI/bge-m3", splade: str = "naver/splade-v3",
                 e5: str = "intfloat/multilingual-e5-small", batch_size: int = 32, revision: Optional[str] = None,
                 options: Optional[dict] = None, milco_loaded=None):
        from ..mini import SHIPPED_DELTA
        hub = {"m3": m3, "splade": splade, "e5": e5}
        options = options or {}
        self.models = {"milco": Model("milco", milco, batch_size, revision, options.get("milco"), milco_loaded),
                       "milco-mini": Model("milco-mini", mini or SHIPPED_DELTA, batch_size, None, options.get("milco-mini"))}
        self.models.update({kind: Model(kind, hub[src], batch_size, None, options.get(kind))
                            for kind, (_, src) in BASELINES.items()})

    def __getitem__(self, kind: str) -> Model:
        return self.models[kind]
