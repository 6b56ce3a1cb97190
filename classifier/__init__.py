"""Scoring texts for topic relevance, stance and speculation; knows nothing about storage."""

from classifier.scores import SPECULATION_LABELS, STANCE_LABELS, Scores

__all__ = ["SPECULATION_LABELS", "STANCE_LABELS", "Scores"]
