# The two commands: `make demo` runs the product, `make test` runs every test. Both set up what they need.
.PHONY: setup demo test lint bench screenshots

setup:
	bash scripts/setup.sh

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

# The lint gates alone (ruff, pylint-odoo, OCA's checks, manifestoo, bandit); make test runs them first.
lint:
	bash scripts/lint.sh

# Not a test: figures and ratios against baselines measured in the same run.
bench: setup
	.venv/bin/python bench/client_memory.py
	.venv/bin/python bench/odoo_bench.py

# The README's screenshots: copies of the browser suite's, after `make test`.
screenshots:
	cp artifacts/browser/*-three-selected.png docs/uninvoiced-bookings.png
	cp artifacts/browser/*-draft-invoice.png docs/draft-invoice.png
	cp artifacts/browser/*-dashboard.png docs/dashboard.png
	cp artifacts/browser/*-calendar.png docs/calendar.png
	cp artifacts/browser/*-pivot.png docs/pivot.png
	cp artifacts/browser/*-invoice-all-waiting.png docs/invoice-all-waiting.png
	cp artifacts/browser/*-late-cancellation-invoice.png docs/late-cancellation-invoice.png
	cp artifacts/browser/*-company-invoice.png docs/company-invoice.png
	cp artifacts/browser/*-draft-with-a-cancelled-booking.png docs/draft-cancelled-booking.png
	cp artifacts/browser/*-bookings-to-review.png docs/bookings-to-review.png
	cp artifacts/browser/*-today-close-last-month.png docs/close-last-month.png
	cp artifacts/browser/*-today-month-closed.png docs/month-closed.png
