"""Helpers, as CocoIndex v0's ``cocoindex.utils``. None is provided yet."""

__all__: list[str] = []
