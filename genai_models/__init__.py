"""Generative vision models (GAN, AE, VAE and transformer-VAE families), their trainer and metrics, and the
registry of model assets that ship inside PyPI packages.

May import ``data_connectors``; never ``rag``, ``domains`` or ``apps``.
"""
