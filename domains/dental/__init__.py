"""Dental panoramic radiographs: tooth segmentation with FDI numbering, caries segmentation, GAN class
balancing for caries patches, and similar-case search.

Kept import-light: ``train.py`` runs on a bare GPU machine with only torch/numpy/pillow (+ the monai wheel).
Every clinical output carries ``DRAFT_NOTICE``.
"""

DRAFT_NOTICE = "Draft for a dentist's review: automatic result, not a diagnosis."
