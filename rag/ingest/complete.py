"""Background completion: ``python -m rag.ingest.complete --index DIR [--batch-size N] [-q]``.

What `rag.ingest.pipeline.ingest(..., background=True)` starts in a detached process, its output
going to ``DIR/background.log``: it finishes the transformer tier of the index's current generation
with `complete_dense`, the function ``rag complete`` calls too, so the ingest layer never starts its
own command line (`rag.interfaces`) as a subprocess.
"""

from __future__ import annotations

import argparse
import logging
import sys

from rag.ingest.pipeline import IndexBusyError, complete_dense
from rag.storage.errors import IndexLoadError


def _batch_size(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 4096:
        raise argparse.ArgumentTypeError(f"{value} is not from 1 to 4096")
    return value


def main(argv: list[str] | None = None) -> int:
    """Run the completion; 0 when the transformer tier is complete, 2 (the reason on stderr) when it cannot be."""
    p = argparse.ArgumentParser(prog="python -m rag.ingest.complete", description=__doc__.splitlines()[0])
    p.add_argument("--index", required=True, help="index folder")
    p.add_argument("--batch-size", type=_batch_size, default=32, help="clauses per embedding batch (1 to 4096)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        n = complete_dense(args.index, batch_size=args.batch_size, show_progress=not args.quiet)
    except (ValueError, OSError, IndexLoadError, IndexBusyError) as exc:
        print(f"rag complete: {exc}", file=sys.stderr)
        return 2
    print(f"transformer tier complete ({n} clauses embedded)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
