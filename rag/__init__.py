"""Retrieval-augmented generation: embeddings, the Chroma adapter, indexing, hybrid retrieval, LLM backends
and answering with citations.

May import ``data_connectors`` and ``genai_models.registry`` (for packaged model paths); never ``domains`` or
``apps``. Heavy libraries (torch, transformers, chromadb) are imported inside functions, not at module import.
"""
