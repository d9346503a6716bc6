"""The error of loading an app, apart from the loader so that front ends can catch it without
importing the flow DSL."""

from __future__ import annotations


class AppLoadError(Exception):
    """The app could not be imported or its flows could not be built."""
