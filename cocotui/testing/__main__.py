"""``python -m cocotui.testing ARGS``: ``cocotui ARGS`` with connectors instrumented as the
``COCOTUI_TESTING_*`` variables ask."""

from cocotui.testing.child import main

if __name__ == "__main__":
    raise SystemExit(main())
