"""Conditional generative model of three-component accelerograms (after CGM-GM).

Importing this package imports torch; ``import gm_engine`` alone does not.
"""
from __future__ import annotations

from .card import ModelCard, load_card, verify_weights
from .device import resolve_device
from .model import CGMVAE, CGMGenerator, LatentShape, ModelConfig, load_model
from .stft import STFTConfig

__all__ = [
    "CGMVAE",
    "CGMGenerator",
    "LatentShape",
    "ModelCard",
    "ModelConfig",
    "STFTConfig",
    "load_card",
    "load_model",
    "resolve_device",
    "verify_weights",
]
