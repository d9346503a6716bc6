"""Built-in transform functions, as CocoIndex v0's ``cocoindex.functions``. None is built in
yet: apps use their own ``@op.function`` functions."""

__all__: list[str] = []
