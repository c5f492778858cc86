#!/usr/bin/env bash
# Every test suite, after the set-up: the lint gates (ruff, pylint-odoo) and the plain-Python suite (Graph client,
# peer, rules) with pytest while the add-on's Odoo tests run on two freshly created databases (bare, and with Odoo's
# demo data, sale and crm); then the integration suite (real Odoo processes killed mid-work) on the bare one while
# the browser suite runs (headless Chromium against an Odoo server and the local Bookings peer it starts itself, on
# a database and ports of its own). Suites that run at once print in turn. Exits non-zero when any test fails or
# errors; the last line is "N passed, N failed" over all.
set -uo pipefail
source "$(dirname "$0")/env.sh"
bash "$ROOT/scripts/setup.sh" --browser --lint || { echo "0 passed, 1 failed"; exit 1; }

ARTIFACTS=${ARTIFACTS:-$ROOT/artifacts}
mkdir -p "$ARTIFACTS"
rm -f "$ARTIFACTS/pytest.xml" "$ARTIFACTS/integration.xml" "$ARTIFACTS/browser.xml"  # a suite that ran is counted
passed=0
failed=0
junit_counts() {  # "passed failed" of a pytest JUnit XML file; a skipped test is not counted as passing
    "$VENV/bin/python" - "$1" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root)
total = sum(int(s.get("tests", 0)) for s in suites)
bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print(total - bad - skipped, bad + skipped)
PY
}

# --- Odoo -------------------------------------------------------------------------------------------------------
# The add-on's tests on two new databases at once: one as bare as an add-on's own (the integration suite then runs on
# it), and one with Odoo's demo data, sale and crm installed, as OCA's CI and an integrator's staging database have.
echo "== Odoo tests (bookings_invoicing on a bare database, and on one with demo data, sale and crm)"
DB="bookings_test_$$"
DEMO_DB="bookings_test_demo_$$"
export PGPASSWORD=$DB_PASSWORD
cleanup() {
    for db in "$DB" "$DEMO_DB"; do dropdb -h 127.0.0.1 -p "$PGPORT" -U "$DB_USER" --if-exists "$db" 2>/dev/null; done
}
trap cleanup EXIT
odoo_tests() {  # database, log name, HTTP port, modules to set up, options...: set up, then the add-on and its tests
    local db=$1 name=$2 port=$3 modules=$4
    shift 4
    local odoo=("$ODOO" -c "$ODOO_CONF" -d "$db" --http-port="$port" --longpolling-port="$((port + 3))"
                --stop-after-init --log-level=test "$@")
    "${odoo[@]}" -i "$modules" >"$ARTIFACTS/$name-setup.log" 2>&1 \
        || { echo "the database $db could not be set up: see $ARTIFACTS/$name-setup.log"; tail -20 "$ARTIFACTS/$name-setup.log"; }
    "${odoo[@]}" -i bookings_invoicing --test-enable >"$ARTIFACTS/$name.log" 2>&1
}
odoo_tests "$DB" odoo-tests "${TEST_HTTP_PORT:-8169}" l10n_generic_coa,account_invoicing --without-demo=all &
bare=$!
odoo_tests "$DEMO_DB" odoo-tests-demo "${TEST_DEMO_HTTP_PORT:-8179}" l10n_generic_coa,account_invoicing,sale,crm &
demo=$!

# --- lint: ruff and pylint-odoo ---------------------------------------------------------------------------------
echo "== lint (ruff, pylint with pylint-odoo)"
bash "$ROOT/scripts/lint.sh" | tee "$ARTIFACTS/lint.log"
read -r p f < <(tail -1 "$ARTIFACTS/lint.log" | awk '/ passed, [0-9]+ failed$/ {print $1, $3}')
[ -n "${p:-}" ] || { p=0; f=1; }
passed=$((passed + p)); failed=$((failed + f))

# --- plain Python -----------------------------------------------------------------------------------------------
echo "== plain-Python tests (pytest)"
"$VENV/bin/python" -m pytest "$ROOT/tests" -q -p no:cacheprovider --junitxml="$ARTIFACTS/pytest.xml" "$@"
read -r p f < <(junit_counts "$ARTIFACTS/pytest.xml") || { p=0; f=1; }
passed=$((passed + p)); failed=$((failed + f))

# --- Odoo, once both runs ended ----------------------------------------------------------------------------------
wait "$bare" "$demo"
for run in "odoo-tests:$DB" "odoo-tests-demo:$DEMO_DB"; do
    name=${run%%:*}
    db=${run#*:}
    LOG="$ARTIFACTS/$name.log"
    grep -E "^(\S+ \S+) [0-9]+ (ERROR|CRITICAL) .*(bookings_invoicing|odoo.modules)|FAIL:|ERROR:" "$LOG" \
        | grep -v "Unmet dependencies" | head -40
    read -r p f < <("$VENV/bin/python" "$ROOT/scripts/odoo_test_summary.py" "$LOG" bookings_invoicing)
    state=$(psql -h 127.0.0.1 -p "$PGPORT" -U "$DB_USER" -d "$db" -tAc \
            "SELECT state FROM ir_module_module WHERE name = 'bookings_invoicing'" 2>/dev/null)
    if [ "$state" != "installed" ]; then
        echo "bookings_invoicing did not install on $db (state: ${state:-none}): see $LOG"
        f=$((f + 1))
    fi
    if [ "$((p + f))" -eq 0 ]; then
        echo "no Odoo test ran on $db: see $LOG"
        f=1
    fi
    echo "Odoo on $db: $p passed, $f failed (log: $LOG)"
    passed=$((passed + p)); failed=$((failed + f))
done

# --- integration and browser, at once ------------------------------------------------------------------------------
# The integration suite kills real Odoo processes mid-work on the bare database; the browser suite plays the
# accountant's day in headless Chromium on a database, an Odoo server and a Bookings peer of its own. Both wait on
# conditions, never on time: they run side by side, the browser suite's output kept until the integration suite's
# is printed.
(cd "$ROOT/tests_browser" && ARTIFACTS=$ARTIFACTS "$BROWSER_VENV/bin/python" -m pytest -q -p no:cacheprovider \
    --junitxml="$ARTIFACTS/browser.xml" >"$ARTIFACTS/browser-output.log" 2>&1) &
browser=$!
echo "== integration tests (pytest, Odoo processes on $DB)"
BOOKINGS_TEST_DB=$DB ARTIFACTS=$ARTIFACTS "$VENV/bin/python" -m pytest "$ROOT/tests_integration" -q -p no:cacheprovider \
    --junitxml="$ARTIFACTS/integration.xml"
read -r p f < <(junit_counts "$ARTIFACTS/integration.xml") || { p=0; f=1; }
passed=$((passed + p)); failed=$((failed + f))

wait "$browser"
echo "== browser tests (Selenium and Chromium, screenshots in $ARTIFACTS/browser)"
cat "$ARTIFACTS/browser-output.log"
read -r p f < <(junit_counts "$ARTIFACTS/browser.xml") || { p=0; f=1; }
passed=$((passed + p)); failed=$((failed + f))

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
