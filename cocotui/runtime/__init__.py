"""The programmatic runtime of CocoIndex v0 (``cocoindex.init()``, ``flow.setup()``,
``flow.update()``, ``FlowLiveUpdater``...) on cocotui's engine: a program's flows are bound to
the same app name, state directory, lock and consent rules as ``cocotui ls/apply/update``
would give them (see :mod:`cocotui.runtime.binding`)."""
