"""Reusable widgets of the review UI."""
