# The two commands: `make demo` runs the product, `make test` runs every test. Both set up what they need.
.PHONY: setup demo test bench

setup:
	bash scripts/setup.sh

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

# Not a test: figures and ratios measured in one run (the Graph client's memory, page by page).
bench: setup
	.venv/bin/python bench/client_memory.py
