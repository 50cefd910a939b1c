"""Training of the conditional generative model and its data loaders.

Importing this package imports torch; ``import gm_engine`` alone does not.
"""
from __future__ import annotations

from .corpus import WaveformSet, fit_length, load_corpus
from .loop import train_main
from .records import load_records

__all__ = ["WaveformSet", "fit_length", "load_corpus", "load_records", "train_main"]
