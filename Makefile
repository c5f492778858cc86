# The two commands: `make demo` runs the product, `make test` runs every test. Both set up what they need.
.PHONY: setup demo test

setup:
	bash scripts/setup.sh

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh
