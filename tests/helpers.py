"""Test doubles shared by the top-level test modules (``from tests.helpers import ...``).

``tests/`` is a package, so pytest puts the repository root on ``sys.path`` and
``tests/training`` (``tests.training``) never shadows the ``training`` package.
"""
import ast
from typing import Callable, List, Mapping, Sequence, Union

Answer = Union[str, Callable[[str], str]]


class ScriptedGenerator:
    """Stands in for the model only: answers each task's prompt with scripted code.

    Prompts are rendered, and completions parsed, aligned and written, by the
    real component code.

    answers (Mapping[str, Answer]): Task ("ner", "re", "ed", "eae") -> the
        completion, or a function of the prompt's sentence giving it.
    max_context (int): The context size the component plans prompts for.
    """

    def __init__(self, answers: Mapping[str, Answer], max_context: int = 4096):
        self.answers = answers
        self.max_context = max_context
        self.prompts: List[str] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def generate(self, prompts: Sequence[str]) -> List[str]:
        self.prompts.extend(prompts)
        return [self._answer(prompt) for prompt in prompts]

    def _answer(self, prompt: str) -> str:
        answer = self.answers[task_of(prompt)]
        return answer(sentence_of(prompt)) if callable(answer) else answer


def task_of(prompt: str) -> str:
    """The task a KnowCoder prompt asks for, from its instruction."""
    if "triggers of the events are confirmed" in prompt:
        return "eae"
    for task, marker in (("re", "Relation Objects"), ("ed", "Event Objects"),
                         ("ner", "Entity Objects")):
        if marker in prompt:
            return task
    raise AssertionError(prompt)


def sentence_of(prompt: str) -> str:
    """The sentence a KnowCoder prompt quotes (``sentence = "..."``)."""
    line = prompt.split("\nsentence = ", 1)[1].rsplit("\n\nOutput:", 1)[0]
    return ast.literal_eval(line)
