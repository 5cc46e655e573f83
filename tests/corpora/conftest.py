"""The corpora tests use the ``data_root`` fixture of tests/conftest.py (../shared/data)."""
