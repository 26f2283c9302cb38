"""Scripts that build lamina's documentation site and notebooks (not part of the package)."""
