"""Radiology: brain MRI skull stripping (DICOM/NIfTI in, mask and stripped volume in the same space out) and a
draft report for radiologist review. Submodules import their heavy dependencies lazily."""
