"""Entry points: the ``genai`` CLI, the Gradio hub (``genai serve``), the HTTP API and the one ``Settings``
object built from environment variables (prefix ``GENAI_``) and an optional YAML file.

Apps import ``domains`` (and lower layers for wiring); nothing imports ``apps``.
"""
