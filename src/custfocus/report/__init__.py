"""The report: one self-contained HTML briefing and the same figures as JSON."""
