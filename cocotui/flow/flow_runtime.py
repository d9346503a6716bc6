"""v0's ``Flow`` methods that run a flow from a program (``flow.setup()``, ``flow.update()``,
...) and register its query handlers. They run on :mod:`cocotui.runtime`, the same engine,
state and lock as the CLI and the TUI (imported on first call: defining flows does not load
the engine)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cocotui.flow.builder import FlowDef
    from cocotui.query_handler import QueryHandler, QueryHandlerResultFields
    from cocotui.runtime.dump import EvaluateAndDumpOptions
    from cocotui.runtime.updater import UpdateStats

QueryFunction = Callable[[str], Any]


class FlowRuntimeMethods:
    name: str

    def __init__(self) -> None:
        self.query_handlers: dict[str, QueryHandler] = {}

    @property
    def full_name(self) -> str:
        from cocotui.setting import get_app_namespace

        return f"{get_app_namespace(trailing_delimiter='.')}{self.name}"

    def _definition(self) -> FlowDef:
        from cocotui.flow.builder import FlowDef

        assert isinstance(self, FlowDef)
        return self

    # -- setup ----------------------------------------------------------------------------------

    def setup(self, report_to_stdout: bool = False) -> None:
        """Create or update the flow's targets, as far as cocotui applies setup changes without
        asking (see :func:`cocotui.runtime.setup.setup_flows`)."""
        from cocotui.runtime.setup import setup_flows

        setup_flows([self._definition()], report_to_stdout=report_to_stdout)

    async def setup_async(self, report_to_stdout: bool = False) -> None:
        from cocotui.runtime.threads import in_thread

        await in_thread(self.setup, report_to_stdout)

    def drop(self, report_to_stdout: bool = False) -> None:
        """Drop the flow's targets (their data and row tracking); ``setup()`` can recreate
        them."""
        from cocotui.runtime.setup import drop_flows

        drop_flows([self._definition()], report_to_stdout=report_to_stdout)

    async def drop_async(self, report_to_stdout: bool = False) -> None:
        from cocotui.runtime.threads import in_thread

        await in_thread(self.drop, report_to_stdout)

    # -- data -----------------------------------------------------------------------------------

    def update(
        self,
        /,
        *,
        reexport_targets: bool = False,
        full_reprocess: bool = False,
        print_stats: bool = False,
    ) -> UpdateStats:
        """Export what changed since the last update; returns the run's statistics."""
        from cocotui.runtime.updater import update_flow

        return update_flow(
            self._definition(),
            reexport_targets=reexport_targets or full_reprocess,
            print_stats=print_stats,
        )

    async def update_async(
        self,
        /,
        *,
        reexport_targets: bool = False,
        full_reprocess: bool = False,
        print_stats: bool = False,
    ) -> UpdateStats:
        from cocotui.runtime.threads import in_thread

        def run() -> UpdateStats:
            return self.update(
                reexport_targets=reexport_targets,
                full_reprocess=full_reprocess,
                print_stats=print_stats,
            )

        return await in_thread(run)

    def evaluate_and_dump(self, options: EvaluateAndDumpOptions) -> UpdateStats:
        """Evaluate every source row and write what the flow collects to files under
        ``options.output_dir`` (one YAML-like text file per export), touching no target."""
        from cocotui.runtime.dump import evaluate_and_dump

        return evaluate_and_dump(self._definition(), options)

    def close(self) -> None:
        """Forget the flow in this process (its targets and state are left alone)."""
        from cocotui.flow.builder import forget_flow

        forget_flow(self._definition())

    # -- query handlers -------------------------------------------------------------------------

    def add_query_handler(
        self,
        name: str,
        handler: QueryFunction,
        /,
        *,
        result_fields: QueryHandlerResultFields | None = None,
    ) -> None:
        # Imported here: most apps define no query handler, and every command loads the app.
        from cocotui.query_handler import QueryHandler, QueryHandlerError

        if not callable(handler):
            raise QueryHandlerError(f"query handler {name!r} must be callable")
        self.query_handlers[name] = QueryHandler(name, handler, result_fields)

    def query_handler(
        self,
        name: str | None = None,
        result_fields: QueryHandlerResultFields | None = None,
    ) -> Callable[[QueryFunction], QueryFunction]:
        """Register the decorated function as a query handler (named after it by default)."""

        def register(handler: QueryFunction) -> QueryFunction:
            self.add_query_handler(
                name or handler.__qualname__, handler, result_fields=result_fields
            )
            return handler

        return register
