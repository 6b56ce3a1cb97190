"""Scoring texts for topic relevance, stance and speculation; knows nothing about storage.

Heavy parts (torch, transformers) load on demand: ``from classifier.scorer import Scorer``.
"""

from classifier.errors import ModelNotFoundError
from classifier.scores import SPECULATION_LABELS, STANCE_LABELS, Scores

__all__ = ["SPECULATION_LABELS", "STANCE_LABELS", "ModelNotFoundError", "Scores"]
