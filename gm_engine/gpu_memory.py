"""How much memory a GPU can still give, for sizing batches to the card at hand.

Used by the generator's batches and by the IMs' passes on CUDA: sized to the
largest card measured they would not fit a small one, sized to the smallest
they leave a large one idle between many small launches.
"""
from __future__ import annotations

import torch


def available_memory(device: torch.device | str) -> int | None:
    """Bytes a CUDA device can still give this process (free on the card plus what
    torch's caching allocator holds unused); None for other devices."""
    dev = torch.device(device)
    if dev.type != "cuda" or not torch.cuda.is_available():
        return None
    free, _total = torch.cuda.mem_get_info(dev)
    return int(free + torch.cuda.memory_reserved(dev) - torch.cuda.memory_allocated(dev))


def power_of_two_within(n: float, low: int, high: int) -> int:
    """The largest power of two <= ``n``, clamped to [``low``, ``high``]."""
    p = 1 << (int(n).bit_length() - 1) if n >= 1 else 1
    return max(low, min(high, p))
