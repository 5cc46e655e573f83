"""The test suite (a package, so tests/training never shadows the training package)."""
