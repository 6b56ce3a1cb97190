"""Exceptions raised by the classifier package."""


class ModelNotFoundError(Exception):
    """The model directory holds no trained heads."""
