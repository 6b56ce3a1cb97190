"""Exceptions raised by the classifier package, under `ClassifierError` (and the root
`stablewatch.errors.StablewatchError`)."""

from stablewatch.errors import StablewatchError


class ClassifierError(StablewatchError):
    """The classifier cannot be loaded or used."""


class ModelNotFoundError(ClassifierError):
    """The model directory holds no trained heads."""


class BackboneUnavailable(ClassifierError):
    """A package the model's encoder needs is not installed; the message names the command
    that installs it."""


class LabelledDataError(ClassifierError, ValueError):
    """A labelled JSONL file (``stablewatch eval``) is malformed; the message names the file
    and the line."""


class TrainingDataError(ClassifierError):
    """The training folder holds no usable labelled texts."""
