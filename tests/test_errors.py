"""One root for every error stablewatch raises on purpose (like praw's PRAWException)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from stablewatch.errors import StablewatchError

PACKAGES = ("stablewatch", "collectors", "classifier", "jobs")
NOT_ERRORS = {
    "jobs.stop.Stopped",  # a BaseException by design: it must pass every handler
    "jobs.cli.ConfigUsageError",  # click's own exception, what the CLI turns ConfigError into
}


def error_classes() -> list[type[BaseException]]:
    """Every public exception class defined in stablewatch's own modules."""
    found = []
    for package in PACKAGES:
        names = [package] + [
            info.name
            for info in pkgutil.walk_packages(importlib.import_module(package).__path__,
                                              f"{package}.")
        ]
        for name in names:
            if name.startswith("jobs.templates"):
                continue
            module = importlib.import_module(name)
            for cls_name, cls in vars(module).items():
                if (
                    inspect.isclass(cls)
                    and issubclass(cls, BaseException)
                    and cls.__module__ == name
                    and not cls_name.startswith("_")
                    and f"{name}.{cls_name}" not in NOT_ERRORS
                ):
                    found.append(cls)
    return found


def test_every_error_has_the_one_root() -> None:
    classes = error_classes()
    assert len(classes) > 20
    outside = [f"{c.__module__}.{c.__name__}" for c in classes
               if not issubclass(c, StablewatchError)]
    assert outside == []


def test_there_is_one_malformed_response() -> None:
    names = [c.__name__ for c in error_classes()]
    assert names.count("MalformedResponse") == 1
