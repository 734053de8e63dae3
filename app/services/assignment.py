"""Seeded block randomisation: every block of `block_size` consecutive assignments is balanced.

The position in the sequence comes from a database counter, not process memory, so every
process sharing the database continues the same sequence, and a restart does not reset it.
The sequence itself is a pure function of (seed, position): it can be regenerated for audit.
"""

from __future__ import annotations

import random
from collections.abc import Sequence


def block_assignment(groups: Sequence[str], block_size: int, seed: int, position: int) -> tuple[str, int]:
    """The group at 0-based `position` of the sequence, and its block number."""
    if block_size <= 0 or block_size % len(groups):
        raise ValueError("block size must be a positive multiple of the number of groups")
    block = position // block_size
    arms = sorted(groups) * (block_size // len(groups))
    # A string seed is hashed with SHA-512 by `random`: stable across processes and Python runs.
    random.Random(f"{seed}:{block}").shuffle(arms)
    return arms[position % block_size], block
