"""Training-data construction (DESIGN §7): schema understanding and schema following.

Example:
    >>> from training.data import DataSettings
    >>> DataSettings(seed=3).seed
    3
"""
from .build import BuildResult, build_training_data
from .settings import DataSettings

__all__ = ["BuildResult", "DataSettings", "build_training_data"]
