"""The plots researchers expect, from tidy result frames (matplotlib; PNG and SVG side by side).

- :func:`sparsity_curve`: terms per document vs nDCG@10 for top-k and mass pruning, with a dense
  baseline as a reference line (paper Figure 5 / Tables 12-13);
- :func:`alpha_curve`: the dual-view weight alpha vs effectiveness (paper Table 19);
- :func:`latency_curve`: latency vs nDCG@10 per pruning level (paper Table 5);
- :func:`language_bars`: per-language bars for several systems;
- :func:`term_contributions`: each shared term's contribution for a query and documents (Figure 3).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import pandas as pd


def _figure(width=6.4, height=4.0, ncols=1):
    """A figure outside pyplot: no backend is chosen or changed, so headless runs need no display
    and a notebook's inline backend stays as the user set it."""
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError("plots need matplotlib: pip install 'milco-pt[plots]'") from e
    fig = Figure(figsize=(width, height), dpi=120)
    return fig, fig.subplots(ncols=ncols) if ncols > 1 else fig.subplots()


# fonts with CJK glyphs, used after the default font for what it lacks (e.g. Japanese terms)
CJK_FONTS = ("Noto Sans CJK JP", "Noto Sans CJK SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "IPAGothic",
             "IPAexGothic", "Source Han Sans JP", "Droid Sans Fallback")


CJK_FILES = ("wqy", "notosanscjk", "notoserifcjk", "ipag", "ipaexg", "sourcehansans", "droidsansfallback")


def font_families() -> list[str]:
    """The default sans-serif font, then every installed CJK font of :data:`CJK_FONTS` (none installed:
    CJK text shows as boxes; ``apt-get install fonts-wqy-microhei`` is enough). A CJK font installed
    after matplotlib cached its font list is registered here."""
    from matplotlib import font_manager, rcParams
    installed = {f.name for f in font_manager.fontManager.ttflist}
    if not installed & set(CJK_FONTS):
        for path in font_manager.findSystemFonts():
            if any(k in Path(path).name.lower().replace("-", "") for k in CJK_FILES):
                font_manager.fontManager.addfont(path)
        installed = {f.name for f in font_manager.fontManager.ttflist}
    return [rcParams["font.sans-serif"][0], *[f for f in CJK_FONTS if f in installed]]


def _save(fig, out) -> list[Path]:
    from matplotlib.text import Text
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    families = font_families()
    for text in fig.findobj(Text):
        text.set_fontfamily(families)
    fig.tight_layout()
    paths = [out.with_suffix(".png"), out.with_suffix(".svg")]
    for p in paths:
        fig.savefig(p)
    return paths


def setting(dataset: Optional[str] = None, languages: Optional[Sequence[str]] = None, threads: Optional[int] = None,
            hardware: bool = True) -> str:
    """A subtitle naming what a plot shows: the dataset (a ``{lang}`` template filled with the languages
    or their count), the machine and the search threads."""
    parts = []
    if dataset:
        if "{lang}" in dataset:
            langs = list(languages or [])
            dataset = dataset.replace("{lang}", langs[0] if len(langs) == 1 else "X")
            dataset += f", {len(langs)} languages" if len(langs) > 1 else ""
        parts.append(dataset)
    if hardware:
        import os
        import platform
        parts.append(f"{os.cpu_count()} CPU cores ({platform.machine()})")
    if threads is not None:
        parts.append(f"{threads} search thread{'s' if threads != 1 else ''}")
    return "; ".join(parts)


def _titles(ax, title: str, subtitle: Optional[str]):
    ax.set_title(title + (f"\n{subtitle}" if subtitle else ""), fontsize=10)


def _require(df: pd.DataFrame, columns: Sequence[str], what: str):
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} needs columns {list(columns)}; missing {missing}")


def sparsity_curve(df: pd.DataFrame, out, dense: Optional[float] = None, dense_label: str = "dense",
                   measure: str = "nDCG@10", title: str = "Sparsity vs effectiveness",
                   subtitle: Optional[str] = None) -> list[Path]:
    """``df``: ``method`` (e.g. top-k / mass; ``none`` rows are the unpruned point), ``terms_per_doc``,
    ``value`` and, when present, ``level`` (labelled on each point); one line per method."""
    _require(df, ["method", "terms_per_doc", "value"], "sparsity_curve")
    fig, ax = _figure()
    for method, g in df.groupby("method", sort=True):
        g = g.sort_values("terms_per_doc")
        if method == "none":
            ax.plot(g["terms_per_doc"], g["value"], marker="*", markersize=12, linestyle="", color="black",
                    label="unpruned")
            continue
        ax.plot(g["terms_per_doc"], g["value"], marker="o", label=f"{method} pruning")
        for x, y, lv in zip(g["terms_per_doc"], g["value"], g["level"] if "level" in g else [None] * len(g)):
            if lv is not None:
                ax.annotate(f"{lv:g}", (x, y), textcoords="offset points", xytext=(3, -10), fontsize=7)
    if dense is not None:
        ax.axhline(dense, color="grey", linestyle="--", label=dense_label)
    ax.set_xscale("log")
    ax.set_xlabel("average non-zero terms per document (log scale)")
    ax.set_ylabel(measure)
    _titles(ax, title, subtitle)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, out)


def alpha_curve(df: pd.DataFrame, out, measure: str = "nDCG@10",
                title: str = "Dual-view fusion weight", subtitle: Optional[str] = None) -> list[Path]:
    """``df``: ``alpha``, ``value`` (pivot weight alpha, source weight 1 - alpha)."""
    _require(df, ["alpha", "value"], "alpha_curve")
    fig, ax = _figure()
    g = df.sort_values("alpha")
    ax.plot(g["alpha"], g["value"], marker="o")
    ax.set_xlabel("alpha (weight of the pivot view; source view 1 - alpha)")
    ax.set_ylabel(measure)
    _titles(ax, title, subtitle)
    ax.grid(alpha=0.3)
    return _save(fig, out)


def latency_curve(df: pd.DataFrame, out, measure: str = "nDCG@10", subtitle: Optional[str] = None) -> list[Path]:
    """``df``: ``latency_ms``, ``value`` and ``label`` (one point per pruning level / backend); with a
    ``backend`` column one colour and line per backend, points labelled by ``mass_pruning`` level."""
    _require(df, ["label", "latency_ms", "value"], "latency_curve")
    fig, ax = _figure(width=7.2, height=4.4)
    groups = df.groupby("backend", sort=True) if "backend" in df else [("", df)]
    for backend, g in groups:
        g = g.sort_values("latency_ms")
        ax.plot(g["latency_ms"], g["value"], marker="o", label=backend or None)
        labels = [f"p={p:g}" for p in g["mass_pruning"]] if "mass_pruning" in g else list(g["label"])
        for i, (x, y, text) in enumerate(zip(g["latency_ms"], g["value"], labels)):
            ax.annotate(text, (x, y), textcoords="offset points", xytext=(4, 4 if i % 2 else -10), fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("mean query latency (ms, log scale)")
    ax.set_ylabel(measure)
    if "backend" in df:
        ax.legend(fontsize=8)
    _titles(ax, "Latency vs effectiveness", subtitle)
    ax.grid(alpha=0.3)
    return _save(fig, out)


def language_bars(df: pd.DataFrame, out, measure: str = "nDCG@10", subtitle: Optional[str] = None) -> list[Path]:
    """``df``: ``language``, ``system``, ``value`` and, when present, ``queries`` (shown under each
    language): grouped bars per language and their average."""
    _require(df, ["language", "system", "value"], "language_bars")
    wide = df.pivot_table(index="language", columns="system", values="value")
    wide.loc["average"] = wide.mean()
    if "queries" in df:
        counts = df.groupby("language")["queries"].first()
        wide.index = [f"{lang}\n({counts[lang]:.0f} q)" if lang in counts else lang for lang in wide.index]
    fig, ax = _figure(width=max(6.4, 0.55 * len(wide) + 2))
    wide.plot.bar(ax=ax, width=0.8, rot=0)
    ax.set_xlabel("query language")
    ax.set_ylabel(measure)
    _titles(ax, f"{measure} per language", subtitle)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, ncols=min(len(wide.columns), 4), loc="upper center", bbox_to_anchor=(0.5, -0.18))
    return _save(fig, out)


def term_contributions(explanations: dict[str, pd.DataFrame], out, query: str = "", top: int = 12) -> list[Path]:
    """``explanations``: ``{document label: Milco.explain(query, text)}``; horizontal bars of the
    largest shared-term contributions per document, coloured by view."""
    fig, axes = _figure(width=4.2 * max(1, len(explanations)), height=4.2, ncols=len(explanations))
    axes = axes if hasattr(axes, "__len__") else [axes]
    for ax, (label, ex) in zip(axes, explanations.items()):
        _require(ex, ["view", "term", "contribution"], "term_contributions")
        total = float(ex["contribution"].sum())
        ex = ex.head(top).iloc[::-1]
        colors = ["tab:blue" if v == "pivot" else "tab:orange" for v in ex["view"]]
        ax.barh(ex["term"], ex["contribution"], color=colors)
        ax.set_title(f"{label}: score {total:.2f}", fontsize=9)
        ax.set_xlabel("contribution to the score")
    fig.suptitle(f"query: {query}  (blue: pivot view, orange: source view)", fontsize=9)
    return _save(fig, out)
