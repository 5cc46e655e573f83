"""Benchmark the streaming Wikidata dump builder: time and peak memory vs. dump size.

Generates dumps in the real format (``[``, one entity per line with a trailing
comma, ``]``) with a fixed number of classes (P279), entity-valued properties
with P2302 type constraints, and a growing number of instance items (P31),
plus a few malformed lines. Each size is built in a fresh child process, which
reports its own peak RSS, so the numbers do not include the generator.
Memory should stay flat as the dump grows (only classes are kept).

    python benchmarks/schema_dump.py --lines 100000 1000000 [--workdir /tmp/kc_dump]
"""
import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

N_CLASSES = 5000
N_PROPERTIES = 300
WORDS = ("river city person club song album film river mountain school company river "
         "party village station bridge lake island team player writer painter").split()


def _claim(prop: str, target: str, qualifiers: Dict[str, List[str]] = None) -> dict:
    def snak(p: str, t: str) -> dict:
        return {"snaktype": "value", "property": p, "datatype": "wikibase-item",
                "datavalue": {"type": "wikibase-entityid",
                              "value": {"entity-type": "item", "numeric-id": int(t[1:]),
                                        "id": t}}}
    out = {"mainsnak": snak(prop, target), "type": "statement", "rank": "normal"}
    if qualifiers:
        out["qualifiers"] = {p: [snak(p, t) for t in ts] for p, ts in qualifiers.items()}
    return out


def _entity(id_: str, label: str, claims: Dict[str, list], kind: str = "item",
            datatype: str = "") -> dict:
    out = {"type": kind, "id": id_, "labels": {"en": {"language": "en", "value": label}},
           "descriptions": {"en": {"language": "en", "value": f"description of {label}"}},
           "aliases": {"en": [{"language": "en", "value": label + " alias"}]},
           "claims": claims}
    if datatype:
        out["datatype"] = datatype
    return out


def generate(path: Path, n_lines: int, seed: int = 0) -> None:
    """Write a dump of ``n_lines`` lines (fixed classes/properties, the rest instances)."""
    rng = random.Random(seed)
    classes = [f"Q{i}" for i in range(1, N_CLASSES + 1)]
    with open(path, "w", encoding="utf-8") as out:
        out.write("[\n")
        written = 2
        for i, cls in enumerate(classes):
            parents = [classes[rng.randrange(i)]] if i else []
            claims = {"P279": [_claim("P279", p) for p in parents]} if parents else {}
            out.write(json.dumps(_entity(cls, f"{rng.choice(WORDS)} class {i}", claims)) + ",\n")
            written += 1
        for i in range(N_PROPERTIES):
            quals = {"Q21503250": [rng.choice(classes)], "Q21510865": [rng.choice(classes)]}
            claims = {"P2302": [_claim("P2302", c, {"P2308": ts}) for c, ts in quals.items()]}
            out.write(json.dumps(_entity(f"P{i + 1}", f"property {i}", claims, "property",
                                         "wikibase-item")) + ",\n")
            written += 1
        i = 0
        while written < n_lines:
            if i % 100_000 == 99_999:
                out.write('{"type": "item", "id": "Q9", "broken\n')
            else:
                claims = {"P31": [_claim("P31", rng.choice(classes))]}
                item = _entity(f"Q{10_000_000 + i}", f"instance {i}", claims)
                out.write(json.dumps(item) + ",\n")
            written += 1
            i += 1
        out.write(json.dumps(_entity("Q99999999", "last", {})) + "\n]\n")


def child(path: str) -> None:
    """Build from one dump and print time, peak RSS and counts as JSON."""
    import warnings

    from spacy_knowcoder.schema.builders.wikidata_dump import build_from_wikidata_dump

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lib, report = build_from_wikidata_dump(path)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": round(seconds, 2),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                                           / 1024, 1),
                      "lines": report.lines, "malformed": report.malformed,
                      "entity_classes": len(lib.keys("entity")),
                      "relations": len(lib.keys("relation"))}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="kc_dump_"))
    workdir.mkdir(parents=True, exist_ok=True)
    results = []
    for n in args.lines:
        path = workdir / f"dump_{n}.json"
        generate(path, n)
        run = subprocess.run([sys.executable, __file__, "--child", str(path)],
                             capture_output=True, text=True, check=True)
        row = {"requested_lines": n, "file_mb": round(path.stat().st_size / 2**20, 1),
               **json.loads(run.stdout.strip().splitlines()[-1])}
        results.append(row)
        print(json.dumps(row), flush=True)
        path.unlink()


if __name__ == "__main__":
    main()
