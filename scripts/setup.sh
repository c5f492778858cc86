#!/usr/bin/env bash
# Idempotent set-up shared by `make demo` and `make test`: Debian packages, a PostgreSQL 15 cluster with a login
# role for Odoo, a Python 3.7 virtual environment with Odoo 11.0 and the add-on's dependencies, an Odoo launcher
# and an Odoo configuration file for this checkout. A second run only checks and takes seconds.
set -euo pipefail
source "$(dirname "$0")/env.sh"

log() { printf '[setup] %s\n' "$*"; }

BROWSER=0
LINT=0
for option in "$@"; do
    case $option in
        --browser) BROWSER=1 ;;  # also the browser suite's Chromium and Selenium environment
        --lint) LINT=1 ;;  # also the linters' environment
        *) echo "usage: setup.sh [--browser] [--lint]" >&2; exit 2 ;;
    esac
done

# --- Debian packages -------------------------------------------------------------------------------------------
DEBIAN_PACKAGES=(postgresql libldap2-dev libsasl2-dev libpq-dev node-less openssl make git)
((BROWSER)) && DEBIAN_PACKAGES+=(chromium chromium-driver fonts-dejavu-core faketime)
missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- PostgreSQL --------------------------------------------------------------------------------------------------
if ! pg_lsclusters -h 2>/dev/null | awk '$1 == 15 && $2 == "main"' | grep -q .; then
    log "creating the PostgreSQL 15 cluster"
    pg_createcluster 15 main >/dev/null
fi
if ! pg_lsclusters -h | awk '$1 == 15 && $2 == "main" {print $4}' | grep -q online; then
    log "starting PostgreSQL 15"
    pg_ctlcluster 15 main start
fi
for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p "$PGPORT" && break
    sleep 1
done
if ! runuser -u postgres -- psql -p "$PGPORT" -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'" | grep -q 1; then
    log "creating the PostgreSQL role $DB_USER"
    runuser -u postgres -- psql -p "$PGPORT" -q -c "CREATE ROLE \"$DB_USER\" LOGIN CREATEDB PASSWORD '$DB_PASSWORD'"
fi

# --- Python virtual environment ----------------------------------------------------------------------------------
stamp_ok() {  # stamp_ok NAME FILE...: true when the stamp matches the files' current content
    local want; want=$(cat "${@:2}" | sha256sum | cut -d' ' -f1)
    [ -f "$VENV/.stamp-$1" ] && [ "$(cat "$VENV/.stamp-$1")" = "$want" ]
}
stamp_set() { cat "${@:2}" | sha256sum | cut -d' ' -f1 >"$VENV/.stamp-$1"; }

if [ ! -x "$VENV/bin/python" ]; then
    log "creating the virtual environment with $PYTHON37"
    "$PYTHON37" -m venv "$VENV"
fi
pip_install() {  # quiet, without the warnings about find-links folders that this machine's pip configuration names
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@" 2> >(grep -v 'is ignored: it is neither' >&2)
}
if ! stamp_ok odoo "$ROOT/requirements/odoo.txt"; then
    log "installing Odoo 11.0's Python requirements"
    pip_install -r "$ROOT/requirements/odoo.txt"
    stamp_set odoo "$ROOT/requirements/odoo.txt"
fi
if ! stamp_ok server "$ROOT/requirements/odoo-server.txt"; then
    log "installing the Odoo 11.0 server and its add-ons"
    pip_install -r "$ROOT/requirements/odoo-server.txt"
    stamp_set server "$ROOT/requirements/odoo-server.txt"
fi
if ! stamp_ok oca "$ROOT/requirements/oca.txt"; then
    log "installing the OCA add-ons the add-on depends on (queue_job)"
    pip_install --no-deps -r "$ROOT/requirements/oca.txt"
    stamp_set oca "$ROOT/requirements/oca.txt"
fi
if ! stamp_ok addon "$ROOT/requirements/addon.txt" "$ROOT/requirements/dev.txt" "$ROOT/tools/setup.py"; then
    log "installing the add-on's dependencies, the test tools and the local Bookings peer"
    pip_install -r "$ROOT/requirements/addon.txt" -r "$ROOT/requirements/dev.txt"
    pip_install --no-deps -e "$ROOT/tools"
    stamp_set addon "$ROOT/requirements/addon.txt" "$ROOT/requirements/dev.txt" "$ROOT/tools/setup.py"
fi

python311_env() {  # python311_env NAME FOLDER REQUIREMENTS: a Python 3.11 environment with pinned requirements
    local name=$1 folder=$2 requirements=$3
    stamp_ok "$name" "$requirements" && [ -x "$folder/bin/python" ] && return
    log "creating the $name environment in $folder"
    [ -x "$folder/bin/python" ] || "$PYTHON311" -m venv "$folder"
    "$folder/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements" \
        2> >(grep -v 'is ignored: it is neither' >&2)
    stamp_set "$name" "$requirements"
}
if ((BROWSER)); then
    python311_env browser "$BROWSER_VENV" "$ROOT/requirements/browser.txt"
    if ! stamp_ok browser-tools "$ROOT/tools/setup.py"; then  # the tools that start the peer and Odoo
        "$BROWSER_VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e "$ROOT/tools"
        stamp_set browser-tools "$ROOT/tools/setup.py"
    fi
fi
if ((LINT)); then python311_env lint "$LINT_VENV" "$ROOT/requirements/lint.txt"; fi

# --- Odoo launcher and configuration -------------------------------------------------------------------------
printf '#!%s\nimport odoo\nodoo.cli.main()\n' "$VENV/bin/python" >"$VENV/bin/odoo"
chmod +x "$VENV/bin/odoo"

mkdir -p "$VAR/data" "$VAR/log"
odoo_addons=$("$VENV/bin/python" -c 'import odoo.addons, os; print(os.path.dirname(odoo.addons.__file__))')
cat >"$ODOO_CONF" <<CONF
[options]
addons_path = $odoo_addons,$ROOT
data_dir = $VAR/data
db_host = 127.0.0.1
db_port = $PGPORT
db_user = $DB_USER
db_password = $DB_PASSWORD
http_interface = 127.0.0.1
http_port = $HTTP_PORT
longpolling_port = $LONGPOLLING_PORT
admin_passwd = $ADMIN_PASSWD
list_db = False
; queue_job's runner starts with every Odoo server and runs the background jobs (README, "Scaling out")
server_wide_modules = base,web,queue_job

[queue_job]
channels = root:2,root.bookings_sync:1,root.bookings_invoicing:2
host = 127.0.0.1
CONF
log "ready: Odoo $("$VENV/bin/python" -c 'import odoo.release as r; print(r.version)') in $VENV"
