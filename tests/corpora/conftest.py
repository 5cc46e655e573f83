"""Fixtures for the corpora tests: the shared raw data, skipped when absent."""
from pathlib import Path

import pytest

DATA_ROOT = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_root() -> Path:
    if not DATA_ROOT.is_dir():
        pytest.skip(f"the raw datasets are not at {DATA_ROOT} (../shared/data)")
    return DATA_ROOT
