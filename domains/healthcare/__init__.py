"""Healthcare assistants: appointment book, patient assistant with a safety layer, compliance review.

Every clinical or compliance output is a draft for a professional's decision (``DRAFT_NOTICE``).
"""

DRAFT_NOTICE = "Draft for a qualified professional's decision; not a clinical or legal determination."
MEDICAL_NOTICE = "This is general information, not medical advice; a clinician must assess your situation."
