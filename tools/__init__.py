"""Developer tools that keep generated documentation in step with the code (not installed with idaudit)."""
