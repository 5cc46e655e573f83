"""Run the knowcoder component on a few texts and save the results.

    python examples/quickstart.py models/smollm2-135m --output out

Writes ``out/docs.spacy`` (a DocBin with entities, relations and events) and
``out/pipeline`` (the pipeline, loadable with ``spacy.load`` in a fresh process),
and prints what was found. The default model is the *untrained* SmolLM2 base:
expect few or no extractions until the training workflow has run.
"""
import argparse
from pathlib import Path

import spacy
from spacy.tokens import DocBin

SCHEMA = {
    "entities": {"person": "A human being.", "city": "A large town."},
    "relations": {"born in": {"description": "The city where a person was born.",
                              "head": ["person"], "tail": ["city"]}},
    "events": {"marriage": {"description": "Two people get married.",
                            "roles": ["spouse", "place"]}},
}
TEXTS = [
    "Barack Obama was born in Honolulu.",
    "Barack Obama married Michelle Robinson in Chicago in 1992.",
]


def main(model: str, output: Path, max_new_tokens: int) -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("knowcoder", config={
        "model": {"@llm_models": "spacy_knowcoder.HFModel.v1", "name": model,
                  "max_new_tokens": max_new_tokens},
        "schema": SCHEMA, "tasks": ["ner", "re", "ed", "eae"]})
    docs = list(nlp.pipe(TEXTS, batch_size=8))
    for doc in docs:
        print(doc.text)
        print("  entities: ", [(ent.text, ent.label_) for ent in doc.ents])
        print("  relations:", doc._.relations)
        print("  events:   ", doc._.events)
        print("  problems: ", doc._.knowcoder_diagnostics.get("problems"))
    output.mkdir(parents=True, exist_ok=True)
    DocBin(store_user_data=True, docs=docs).to_disk(output / "docs.spacy")
    nlp.to_disk(output / "pipeline")
    spacy.load(output / "pipeline")
    print(f"Saved {output / 'docs.spacy'} and {output / 'pipeline'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="HF model directory, hub id or .gguf file")
    parser.add_argument("--output", type=Path, default=Path("out"))
    parser.add_argument("--max-new-tokens", type=int, default=128)
    args = parser.parse_args()
    main(args.model, args.output, args.max_new_tokens)
