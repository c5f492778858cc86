#!/usr/bin/env bash
# The project's lint gates: ruff over every Python file, and pylint with pylint-odoo (OCA's checks for 11.0) over the
# add-on and the local Bookings peer. Run from a Python 3.11 environment (.venv-lint); exits non-zero on any finding.
# Configuration: ruff.toml and .pylintrc. Prints "N passed, N failed" over the two linters last.
set -uo pipefail
source "$(dirname "$0")/env.sh"
bash "$ROOT/scripts/setup.sh" --lint >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
cd "$ROOT"
passed=0
failed=0
echo "== ruff"
if "$LINT_VENV/bin/ruff" check --no-cache .; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
echo "== pylint (pylint-odoo, Odoo 11.0)"
if "$LINT_VENV/bin/pylint" --rcfile=.pylintrc bookings_invoicing tools/bookings_peer; then
    echo "pylint: no finding"
    passed=$((passed + 1))
else
    failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
