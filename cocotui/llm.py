"""LLM specs, as CocoIndex v0's ``cocoindex.llm``. None is provided yet."""

__all__: list[str] = []
