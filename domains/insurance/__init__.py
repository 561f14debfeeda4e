"""Insurance assistants: claim triage (extraction, coverage, fraud indicators), underwriting profiles.

Every recommendation is a draft for a claims professional's decision (``DRAFT_NOTICE``).
"""

DRAFT_NOTICE = "Draft recommendation for a claims professional's decision; not a coverage determination."
