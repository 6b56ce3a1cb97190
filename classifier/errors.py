"""Exceptions raised by the classifier package."""


class ModelNotFoundError(Exception):
    """The model directory holds no trained heads."""


class BackboneUnavailable(Exception):
    """A package the model's encoder needs is not installed; the message names the command
    that installs it."""
