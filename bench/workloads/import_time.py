"""Seconds to `import <library>` in a fresh process (the runner starts one per measurement)."""

import sys
import time

if __name__ == "__main__":
    library = sys.argv[1]
    start = time.perf_counter()
    __import__(library)
    seconds = time.perf_counter() - start
    # Imported after the timed import so the plumbing's own numpy import does not warm it up.
    from _common import emit

    emit(import_s=seconds)
