#!/usr/bin/env bash
# The project's lint gates: ruff over every Python file, pylint with pylint-odoo (OCA's checks for 11.0) over the
# add-on and the local Bookings peer, OCA's pre-commit checks of the add-on's XML, CSV, manifest and translations,
# manifestoo over its manifest, and bandit's security checks over the add-on and the peer. Run from a Python 3.11
# environment (.venv-lint); exits non-zero on any finding. Configuration: ruff.toml and .pylintrc; each finding bandit
# is told to pass over carries "# nosec <check>  # the reason" on its line. Prints "N passed, N failed" over the five
# gates last.
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
echo "== OCA's checks of the add-on (XML, CSV, manifest) and of its translations (oca-odoo-pre-commit-hooks)"
# Left out for PO files: po-duplicate-model-definition (Odoo 11 exports each paragraph of an action's help under the
# action's one reference) and po-pretty-format (the files are written by msgmerge and msgattrib --no-wrap).
if "$LINT_VENV/bin/oca-checks-odoo-module" bookings_invoicing/__manifest__.py \
        && "$LINT_VENV/bin/oca-checks-po" --disable=po-duplicate-model-definition,po-pretty-format \
            bookings_invoicing/i18n/*.po bookings_invoicing/i18n/*.pot; then
    echo "OCA checks: no finding"
    passed=$((passed + 1))
else
    failed=$((failed + 1))
fi
echo "== manifestoo: every dependency of the manifest found beside Odoo 11, licenses compatible, status set"
odoo_addons=$("$VENV/bin/python" -c 'import odoo.addons, os; print(os.path.dirname(odoo.addons.__file__))')
manifestoo=("$LINT_VENV/bin/manifestoo" --addons-path "$odoo_addons,$ROOT" --no-addons-path-from-import-odoo
            --odoo-series 11.0 --select bookings_invoicing)
missing=$("${manifestoo[@]}" list-missing)
if [ -z "$missing" ] && "${manifestoo[@]}" check-licenses && "${manifestoo[@]}" check-dev-status; then
    echo "manifestoo: no finding"
    passed=$((passed + 1))
else
    echo "missing dependencies: ${missing:-none}"
    failed=$((failed + 1))
fi
echo "== bandit: security checks of the add-on and the peer"
if "$LINT_VENV/bin/bandit" -q -r bookings_invoicing tools/bookings_peer -x bookings_invoicing/tests \
        -f custom --msg-template "{relpath}:{line}: {test_id} {severity}: {msg}" 2> >(grep -v "nosec encountered" >&2); then
    echo "bandit: no finding"
    passed=$((passed + 1))
else
    failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
