"""Fixtures of the spacy-llm tests: a real chat server on loopback."""
import pytest

from .chat_server import ChatServer


@pytest.fixture(scope="module")
def chat_server():
    """An OpenAI-compatible chat server in a thread, for the tests of one module."""
    server = ChatServer()
    yield server
    server.close()
