"""Verification: reverse and forward mode against a numerical reference, and students' answers."""

from .check import Finding, LeafCheck, Report, gradcheck

__all__ = ["Finding", "LeafCheck", "Report", "gradcheck"]
