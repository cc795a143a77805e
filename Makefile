# Two entry points for a fresh machine (see README):
#   make run   install into .venv, ingest samples/ once, answer a sample question, then open the chat app
#   make test  install into .venv (with test extras) and run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAMPLE_QUESTION := RAG는 어떻게 작동하나요?
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test install install-test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall when the dependency list changes; the stamps keep repeated runs instant.
# The app itself needs no torch.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

# The tests also train a tiny cross-encoder: torch first and pinned, so pip takes the local CPU
# wheel instead of a multi-GB CUDA build.
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

run: install
	$(BIN)/rag-app ingest samples --collection samples
	$(BIN)/rag-app ask "$(SAMPLE_QUESTION)" --collection samples
	$(BIN)/rag-app serve --collection samples

test: install-test
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/retrieval.py

clean:
	rm -rf $(VENV) bench/.cache .pytest_cache
