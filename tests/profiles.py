"""How far a property test searches: its own count in ``make check``, further under
``HYPOTHESIS_PROFILE=long``.

A count written in a test's ``@settings`` overrides the loaded profile, so a test that names
one passes it through :func:`examples`; ``derandomize=not LONG`` keeps ``make check`` on the
same examples every run while the long profile draws new ones.
"""

from __future__ import annotations

import os
from typing import Final

LONG: Final = os.environ.get("HYPOTHESIS_PROFILE") == "long"
#: The fewest examples a test draws under the long profile.
LONG_EXAMPLES: Final = 2000


def examples(count: int) -> int:
    """``count`` in ``make check``; at least :data:`LONG_EXAMPLES` under the long profile."""
    return max(count, LONG_EXAMPLES) if LONG else count
