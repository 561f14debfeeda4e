"""Hub tabs, one module per flow. Each module exposes ``TITLE`` and ``build(services)``, which lays out the
tab's components inside an open ``gr.Tab`` and wires handlers that only delegate to ``domains``/``rag``."""

from apps.tabs import (
    chat,
    dental,
    documents,
    finance,
    healthcare,
    insurance,
    models,
    radiology,
    retail,
    status,
)

# In display order; the status page stays last.
TABS = [chat, documents, healthcare, insurance, radiology, dental, retail, finance, models, status]
