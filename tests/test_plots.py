import subprocess
import sys

import pandas as pd
import pytest

from milco_pt.run import plots


def test_every_plot_renders_png_and_svg(tmp_path):
    curve = pd.DataFrame({"method": ["mass"] * 3 + ["top-k"] * 3, "terms_per_doc": [20, 40, 80, 8, 32, 128],
                          "value": [0.5, 0.6, 0.62, 0.4, 0.58, 0.63]})
    made = plots.sparsity_curve(curve, tmp_path / "sparsity", dense=0.65, dense_label="e5")
    made += plots.alpha_curve(pd.DataFrame({"alpha": [0, 0.5, 1], "value": [0.1, 0.7, 0.6]}), tmp_path / "alpha")
    made += plots.latency_curve(pd.DataFrame({"label": ["p0", "p90"], "latency_ms": [2.0, 0.5], "value": [0.7, 0.65]}),
                                tmp_path / "latency")
    made += plots.language_bars(pd.DataFrame({"language": ["de", "de", "ja", "ja"], "system": ["a", "b"] * 2,
                                              "value": [0.5, 0.6, 0.4, 0.3]}), tmp_path / "bars")
    ex = pd.DataFrame({"view": ["pivot", "source"], "term": ["dog", "▁Hund"], "query_weight": [1.0, 0.5],
                       "doc_weight": [2.0, 1.0], "contribution": [2.0, 0.5]})
    made += plots.term_contributions({"d1": ex, "d2": ex.head(1)}, tmp_path / "terms", query="Hund")
    assert len(made) == 10
    for path in made:
        assert path.stat().st_size > 1000
        if path.suffix == ".svg":
            assert "<svg" in path.read_text()[:500]
    assert "average non-zero terms per document" in (tmp_path / "sparsity.svg").read_text()


def test_bad_input_names_the_columns(tmp_path):
    with pytest.raises(ValueError, match="terms_per_doc"):
        plots.sparsity_curve(pd.DataFrame({"method": ["x"], "value": [1]}), tmp_path / "x")


def test_plots_leave_the_matplotlib_backend_alone(tmp_path):
    """A library call must not switch the backend (a notebook's inline plots) nor need pyplot."""
    code = ("import sys, matplotlib; matplotlib.use('svg'); import pandas as pd; from milco_pt.run import plots; "
            f"plots.alpha_curve(pd.DataFrame({{'alpha': [0, 1], 'value': [0.2, 0.4]}}), {str(tmp_path / 'a')!r}); "
            "print(matplotlib.get_backend(), 'matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["svg", "False"]
    assert (tmp_path / "a.png").stat().st_size > 1000


def test_cjk_terms_use_an_installed_cjk_font(tmp_path):
    import warnings
    from matplotlib import font_manager
    families = plots.font_families()
    installed = {f.name for f in font_manager.fontManager.ttflist}
    assert families[0] in installed and set(families[1:]) <= set(plots.CJK_FONTS) & installed
    if len(families) == 1:
        pytest.skip("no CJK font installed (apt-get install fonts-wqy-microhei)")
    ex = pd.DataFrame({"view": ["pivot", "source"], "term": ["dog", "▁犬"], "query_weight": [1.0, 0.5],
                       "doc_weight": [2.0, 1.0], "contribution": [2.0, 0.5]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plots.term_contributions({"d": ex}, tmp_path / "t", query="パーティション")
    assert not [w for w in caught if "missing from font" in str(w.message)]


def test_subtitles_fill_dataset_templates_and_latency_has_a_line_per_backend(tmp_path):
    assert plots.setting("ddtp/{lang}-en/test", ["ja"], hardware=False) == "ddtp/ja-en/test"
    assert plots.setting("ddtp/{lang}-en/test", ["de", "ja"], threads=1, hardware=False) == \
        "ddtp/X-en/test, 2 languages; 1 search thread"
    assert "{lang}" not in plots.setting("ddtp/{lang}-en/test", ["de", "ja", "ru"])
    df = pd.DataFrame({"backend": ["anserini", "anserini", "pisa", "pisa"], "label": ["a0", "a50", "p0", "p50"],
                       "mass_pruning": [0, 50, 0, 50], "latency_ms": [40.0, 20.0, 10.0, 6.0], "value": [58, 57, 58, 57]})
    made = plots.latency_curve(df, tmp_path / "lat", subtitle="ddtp/ja-en/test")
    assert all(p.stat().st_size > 1000 for p in made)
    curve = pd.DataFrame({"method": ["none", "mass", "mass"], "level": [0, 50, 90], "terms_per_doc": [700, 100, 8],
                          "value": [58, 57, 31]})
    assert len(plots.sparsity_curve(curve, tmp_path / "s", subtitle="x")) == 2
