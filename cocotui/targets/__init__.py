"""Built-in targets, as CocoIndex v0's ``cocoindex.targets`` (also reachable under its old name
``cocoindex.storages``). None is built in yet: apps bring their own connectors."""

__all__: list[str] = []
