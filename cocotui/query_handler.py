"""Query handlers, as CocoIndex v0's ``cocoindex.query_handler``. None is provided yet."""

__all__: list[str] = []
