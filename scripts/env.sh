# Settings shared by the scripts; each may be overridden from the environment.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VAR=${VAR:-$ROOT/var}
VENV=${VENV:-$ROOT/.venv}
PYTHON37=${PYTHON37:-/root/.pyenv/versions/3.7.16/bin/python3.7}
PYTHON311=${PYTHON311:-/root/.pyenv/versions/3.11.7/bin/python3.11}  # the browser suite's and the linters'

BROWSER_VENV=${BROWSER_VENV:-$ROOT/.venv-browser}
LINT_VENV=${LINT_VENV:-$ROOT/.venv-lint}
ODOO_CONF=${ODOO_CONF:-$VAR/odoo.conf}
PGPORT=${PGPORT:-5432}
DB_USER=${DB_USER:-odoo}
DB_PASSWORD=${DB_PASSWORD:-odoo}
HTTP_PORT=${HTTP_PORT:-8069}
LONGPOLLING_PORT=${LONGPOLLING_PORT:-8072}
ADMIN_PASSWD=${ADMIN_PASSWD:-admin}
ODOO=$VENV/bin/odoo
export ROOT VAR VENV ODOO_CONF PGPORT DB_USER DB_PASSWORD
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}  # Debian lessc, which Odoo 11 runs, needs it under this Node.js
