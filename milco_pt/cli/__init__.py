"""``milco-pt`` command line: mirrors the Python API, one module per stage (:mod:`.encode`,
:mod:`.index`, :mod:`.runs`).

  milco-pt inspect "some text" --query|--doc [--model milco-mini]   top terms of each view
  milco-pt encode --input docs.jsonl --output vecs.jsonl [--model M] [--views ...] [--mass 90]
  milco-pt index --vectors vecs.jsonl --index idx     impact index of encoded vectors (--backend pisa|seismic)
  milco-pt search --index idx --queries q.jsonl --output run.trec
  milco-pt eval run.trec qrels.txt [--measures nDCG@10,R@100]   measures of a run file (ir_measures)
  milco-pt bm25 --corpus docs.jsonl --topics q.tsv --index idx --language de --output run.trec
  milco-pt datasets build-ddtp --out DIR            the DDTP collection from Debian (apt, no system change)
  milco-pt datasets build-manpages --out DIR        the man-page dev collection from Debian (apt, no system change)
  milco-pt datasets info [ddtp/ja-en/test]          languages, sizes, or one task's counts
  milco-pt experiment --systems milco,bm25 --dataset ddtp/ja-en/test --model M --baseline bm25
  milco-pt demo [--languages de,ja]                  milco-mini vs BM25 vs e5 on DDTP (results/demo.csv)
  milco-pt train sap|sct --model M --output OUT ...   SAP / SCT training (see milco_pt.training.cli)
  milco-pt tiny PATH                                write a small random model (for trying things)
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from . import encode, evaluate, index, runs
from .index import read_vectors

__all__ = ["main", "build_parser", "read_vectors"]


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the usage text as written and shows each option's default (when it has one)."""

    def _get_help_string(self, action):
        text = (action.help or "").strip()
        if _shows_default(action) and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text.strip()


def _shows_default(action) -> bool:
    return (bool(action.option_strings) and not action.required
            and action.default not in (None, argparse.SUPPRESS) and not isinstance(action.default, bool))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="milco-pt", description=__doc__, formatter_class=HelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    for part in (encode, index, evaluate, runs):
        part.add_parsers(sub, HelpFormatter)
    _help_for_defaults(p)
    return p


def _help_for_defaults(parser: argparse.ArgumentParser):
    """argparse prints nothing for an option without help text: give those with a default one."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                child.formatter_class = HelpFormatter
                _help_for_defaults(child)
        elif not action.help and _shows_default(action):
            action.help = "(default: %(default)s)"


def user_error(e: BaseException) -> bool:
    """An error meant for the user: a file problem, or an exception that milco-pt itself raises
    with a message (a ``raise`` statement in the package). Anything else is a bug, shown with its
    traceback."""
    if isinstance(e, OSError):
        return True
    if not isinstance(e, (ValueError, TypeError, KeyError, RuntimeError)):
        return False
    tb = e.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return False
    import linecache
    filename = tb.tb_frame.f_code.co_filename
    own = Path(filename).resolve().is_relative_to(Path(__file__).resolve().parent.parent)
    return own and linecache.getline(filename, tb.tb_lineno).strip().startswith("raise")


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.fn(args)
    except Exception as e:
        if os.environ.get("MILCO_PT_TRACEBACK") or not user_error(e):
            raise
        parser.exit(2, f"milco-pt {args.command}: error: {e}\n")
