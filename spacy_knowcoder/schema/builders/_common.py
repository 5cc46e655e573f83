"""Helpers shared by the builders: reading source files with coded errors."""
import json
import re
from pathlib import Path
from typing import Any, Union

from ...errors import Errors
from ...fileio import read_text


def read_json_source(path: Union[str, Path], what: str, expected: str) -> Any:
    """Parse a JSON source file; a broken file raises E203 naming it."""
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as err:
        raise ValueError(Errors.E203.format(what=what, path=path,
                                            reason=f"invalid JSON at line {err.lineno}",
                                            expected=expected)) from None


def source_error(what: str, path: Union[str, Path], reason: str, expected: str) -> ValueError:
    """A coded E203 error for a source file whose content has the wrong shape."""
    return ValueError(Errors.E203.format(what=what, path=path, reason=reason, expected=expected))


def role_name(role: str) -> str:
    """A role as a Python identifier: ``Undesirable_event`` stays, ``place-of`` -> ``place_of``."""
    name = re.sub(r"\W+", "_", role.strip()).strip("_")
    if not name:
        return "role"
    return "_" + name if name[0].isdigit() else name
