"""The bundled demo app: markdown guides shipped with cocotui, rendered to HTML files."""
