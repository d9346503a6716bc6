"""First-party target connectors for cocotui, written only against the public ``cocotui.op`` API."""
