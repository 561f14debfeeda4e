"""One package per industry (healthcare, dental, radiology, retail, finance, insurance).

Each use case is a thin composition: connector -> transforms -> model or retriever -> typed result. Domains
import ``rag``, ``genai_models`` and ``data_connectors``; they never import ``apps`` or each other, and hold no
``nn.Module`` definitions, retrieval code or Gradio.
"""
