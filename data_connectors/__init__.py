"""Readers and writers for the outside world.

Documents become ``langchain_core.documents.Document`` objects with source metadata, medical images become
MONAI ``MetaTensor`` objects that carry their affine, tables become ``pandas.DataFrame``. This is the bottom
layer: it may be imported by ``rag``, ``genai_models``, ``domains`` and ``apps``, and imports none of them.
"""
