#!/usr/bin/env bash
# The product, ready in a browser: the set-up, the local Bookings peer with seeded demo data, a database with the
# add-on and its demo business connected to the peer and synchronized, and Odoo serving on 127.0.0.1:8069.
# Ctrl-C stops Odoo and the peer.
set -euo pipefail
source "$(dirname "$0")/env.sh"
bash "$ROOT/scripts/setup.sh"

DB=${DEMO_DB:-bookings_demo}
PEER_DIR=$VAR/peer
mkdir -p "$PEER_DIR"
export PGPASSWORD=$DB_PASSWORD
NEW_DATABASE=
psql -h 127.0.0.1 -p "$PGPORT" -U "$DB_USER" -d "$DB" -tAc "SELECT 1" >/dev/null 2>&1 || NEW_DATABASE=1
# the peer's data is placed around the time the database was made: the same bookings at every start
[ -z "$NEW_DATABASE" ] && [ -s "$PEER_DIR/$DB.now" ] || date -u +%Y-%m-%dT%H:%M:%SZ >"$PEER_DIR/$DB.now"

echo "[demo] starting the local Bookings peer on https://127.0.0.1:8443"
# the demo application signs in with its secret, or with the certificate made in client-certificate.pem
"$VENV/bin/bookings-peer" --port 8443 --seed demo --now "$(cat "$PEER_DIR/$DB.now")" --cert-dir "$PEER_DIR" \
    --certificate-file "$PEER_DIR/client-certificate.pem" --connection-file "$PEER_DIR/connection.json" \
    >"$VAR/log/peer.log" 2>&1 &
PEER_PID=$!
trap 'kill $PEER_PID 2>/dev/null' EXIT
for _ in $(seq 1 50); do [ -s "$PEER_DIR/connection.json" ] && break; sleep 0.2; done
[ -s "$PEER_DIR/connection.json" ] || { cat "$VAR/log/peer.log"; exit 1; }
export REQUESTS_CA_BUNDLE=$PEER_DIR/ca.pem  # how the Odoo process trusts the peer, as it would any host

if [ -n "$NEW_DATABASE" ]; then
    echo "[demo] creating the database $DB (Odoo, a generic chart of accounts, the add-on and its demo data)"
    "$ODOO" -c "$ODOO_CONF" -d "$DB" -i l10n_generic_coa,account_invoicing,bookings_invoicing --stop-after-init \
        --log-level=warn >"$VAR/log/demo-install.log" 2>&1 || { tail -30 "$VAR/log/demo-install.log"; exit 1; }
fi

echo "[demo] synchronizing the demo business with the peer"
# where the demo is opened, and where Microsoft's sign-in sends the browser back
export BOOKINGS_BASE_URL=http://127.0.0.1:$HTTP_PORT
"$ODOO" shell -c "$ODOO_CONF" -d "$DB" --log-level=warn --no-http <"$ROOT/scripts/demo_setup.py" \
    2>>"$VAR/log/demo-install.log"

cat <<MSG
[demo] Odoo is starting on http://127.0.0.1:$HTTP_PORT (database $DB)
[demo]   Bookings user:    login bookings          password bookings
[demo]   Bookings manager: login bookings-manager  password bookings-manager
[demo]   Administrator:    login admin             password admin
MSG
"$ODOO" -c "$ODOO_CONF" -d "$DB" --db-filter="^$DB\$" --log-level=warn
