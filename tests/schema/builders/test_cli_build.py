"""``knowcoder schema build/stats/show/render`` on the dump fixture and shared data."""
import json
import re
from pathlib import Path

from typer.testing import CliRunner

from spacy_knowcoder.cli import app
from spacy_knowcoder.schema.library import SchemaLibrary

FIXTURE = Path(__file__).parents[2] / "fixtures" / "wikidata" / "dump_small.json"
runner = CliRunner()


def test_build_stats_show_render(tmp_path):
    out = tmp_path / "lib.json"
    result = runner.invoke(app, ["schema", "build", "--dump", str(FIXTURE), "--output", str(out),
                                 "--render-dir", str(tmp_path / "files")])
    assert result.exit_code == 0, result.output
    assert "Skipped 3 malformed dump line(s), first at 5, 9, 15" in result.output
    lib = SchemaLibrary.from_disk(out)
    assert lib.keys("relation") == ["P19", "P26"]
    relations = (tmp_path / "files" / "Relations.py").read_text()
    assert re.findall(r"^class (\w+)\(Relation\)", relations, flags=re.M) == ["PlaceOfBirth",
                                                                             "Spouse"]

    result = runner.invoke(app, ["schema", "stats", str(out), "-o", str(tmp_path / "s.json")])
    assert result.exit_code == 0 and "without_description" in result.output
    assert json.loads((tmp_path / "s.json").read_text())["entity"]["classes"] == 7

    result = runner.invoke(app, ["schema", "show", "city", "--library", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "# City (key Q515, label 'city'): City -> HumanSettlement -> EntityType -> Entity")
    assert "class City(HumanSettlement):" in result.output
    assert "class HumanSettlement(EntityType):" in result.output

    result = runner.invoke(app, ["schema", "show", "Nothing", "--library", str(out)])
    assert result.exit_code == 1 and "E205" in result.output

    result = runner.invoke(app, ["schema", "render", str(out), str(tmp_path / "r")])
    assert result.exit_code == 0 and (tmp_path / "r" / "Entities.py").is_file()


def test_build_needs_a_source(tmp_path):
    result = runner.invoke(app, ["schema", "build", "--output", str(tmp_path / "x.json")])
    assert result.exit_code == 1 and "at least one source" in result.output
