"""Settings, as CocoIndex v0's ``cocoindex.setting``. Nothing is configurable here yet."""

__all__: list[str] = []
