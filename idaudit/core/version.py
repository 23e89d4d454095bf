"""The tool version recorded in every snapshot manifest and report."""

__version__ = "0.1.0"
