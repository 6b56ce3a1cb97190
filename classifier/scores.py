"""What the classifier returns for one text."""

from __future__ import annotations

from dataclasses import dataclass

STANCE_LABELS: tuple[str, ...] = ("supportive", "neutral", "opposed")
SPECULATION_LABELS: tuple[str, ...] = ("factual", "speculative")
RELEVANCE_THRESHOLD = 0.5
OUTPUTS: tuple[str, ...] = ("relevance", "stance", "speculation")


@dataclass(frozen=True)
class Scores:
    """Scores for one text.

    relevance: probability that the text is on topic.
    stance_probs: probabilities for STANCE_LABELS, in that order.
    speculation: probability that the text is speculative.
    """

    relevance: float
    stance_probs: tuple[float, float, float]
    speculation: float
    model_id: str

    @property
    def relevant(self) -> bool:
        return self.relevance >= RELEVANCE_THRESHOLD

    @property
    def stance(self) -> str:
        """Most likely stance; an off-topic text is neutral by definition."""
        if not self.relevant:
            return "neutral"
        best = max(range(len(STANCE_LABELS)), key=lambda i: self.stance_probs[i])
        return STANCE_LABELS[best]

    @property
    def speculation_label(self) -> str:
        return "speculative" if self.speculation >= 0.5 else "factual"
