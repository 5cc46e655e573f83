"""docs/bad-input.md: every row points at a real test and names real codes.

The test functions are looked up on the syntax tree of the named file (no
import, so a slow or model-dependent test module costs nothing here).
"""
import ast
import re
from pathlib import Path
from typing import Dict, List, NamedTuple

import pytest

from spacy_knowcoder.errors import Errors, Warnings

REPO = Path(__file__).resolve().parent.parent
TABLE = REPO / "docs" / "bad-input.md"
HEADER = ["Input", "Where", "What the user gets", "Test"]
CODE = re.compile(r"`?\b([EW]\d{3})\b`?")


class Row(NamedTuple):
    line: int
    cells: List[str]

    @property
    def test(self) -> str:
        return self.cells[3].strip().strip("`")


def table_rows(text: str) -> List[Row]:
    """The body rows of the first Markdown table in ``text``.

    Example:
        >>> table_rows("| a | b |\\n|---|---|\\n| 1 | 2 |\\n")
        [Row(line=3, cells=['1', '2'])]
    """
    rows, seen_header = [], False
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("|"):
            if seen_header and rows:
                break
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if not seen_header:
            seen_header = True
            continue
        if set("".join(cells)) <= set("-: |"):
            continue
        rows.append(Row(number, cells))
    return rows


def functions_in(path: Path) -> Dict[str, int]:
    """Top-level and class-level test function names in a test file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                node.name.startswith("test"):
            names[node.name] = node.lineno
    return names


ROWS = table_rows(TABLE.read_text(encoding="utf-8"))


def test_table_has_the_expected_columns() -> None:
    header = TABLE.read_text(encoding="utf-8").split("\n| Input", 1)[1].split("\n", 1)[0]
    assert [c.strip() for c in ("Input" + header).strip().strip("|").split("|")] == HEADER


def test_table_has_at_least_20_rows() -> None:
    assert len(ROWS) >= 20, len(ROWS)
    for row in ROWS:
        assert len(row.cells) == 4, f"line {row.line}: {len(row.cells)} columns"
        assert all(cell for cell in row.cells), f"line {row.line} has an empty cell"


@pytest.mark.parametrize("row", ROWS, ids=[f"line{r.line}" for r in ROWS])
def test_row_points_at_an_existing_test(row: Row) -> None:
    path_text, sep, name = row.test.partition("::")
    assert sep, f"line {row.line}: expected 'tests/....py::test_name', got {row.test!r}"
    path = REPO / path_text
    assert path.is_file() and path.name.startswith("test_"), f"line {row.line}: no {path_text}"
    assert name in functions_in(path), f"line {row.line}: {path_text} has no {name}"


@pytest.mark.parametrize("row", ROWS, ids=[f"line{r.line}" for r in ROWS])
def test_codes_in_the_row_exist_and_its_test_uses_them(row: Row) -> None:
    path_text, _, name = row.test.partition("::")
    codes = CODE.findall(row.cells[2])
    for code in codes:
        assert code in vars(Errors if code[0] == "E" else Warnings), \
            f"line {row.line}: {code} is not defined in errors.py"
    source = (REPO / path_text).read_text(encoding="utf-8")
    function = next(n for n in ast.walk(ast.parse(source))
                    if isinstance(n, ast.FunctionDef) and n.name == name)
    # The test, its parametrization or the module's helpers mention each code.
    text = ast.get_source_segment(source, function) or ""
    text += "".join(ast.get_source_segment(source, d) or "" for d in function.decorator_list)
    for code in codes:
        assert code in text or code in source, f"line {row.line}: {name} never checks {code}"


def test_rows_are_unique() -> None:
    inputs = [row.cells[0] for row in ROWS]
    assert len(inputs) == len(set(inputs))
