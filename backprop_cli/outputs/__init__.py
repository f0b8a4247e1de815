"""Outputs: terminal tables, explanations in words, JSON, Markdown (and diagrams)."""
