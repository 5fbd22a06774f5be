"""Python's cyclic garbage collector paused for a bulk computation (the national termly pass)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic garbage collector off, as it was before afterwards.

    The national termly pass (decision 0027) builds millions of short-lived tuples, lists and dicts (2 million
    school measures read, 270,000 results' evidence, features and reasons for 23,000 schools): each allocation
    burst triggers collections that walk every live container, 1.5-2.5 s of a 15-20 s pass. The pass creates
    no reference cycles it relies on the collector to free; reference counting frees its objects as before,
    and any cycle left is collected once the collector runs again. Nested use is safe (the outer block
    re-enables it)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
