"""Truceline: a shared, tamper-evident deconfliction register."""

__version__ = "0.1.0"
