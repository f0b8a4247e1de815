"""Verification: reverse and forward mode against a numerical reference, and students' answers."""

from .check import gradcheck
from .verdicts import Finding, LeafCheck, Report

__all__ = ["Finding", "LeafCheck", "Report", "gradcheck"]
