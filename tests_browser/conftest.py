"""Fixtures of the browser suite: the local Bookings peer, a database with the add-on's demo data (English and
French), an Odoo server on 127.0.0.1 and a headless Debian Chromium driven by Selenium; and, for a day other than
today, the same peer, database and server living that day under libfaketime. Everything listens on the loopback
interface (each Odoo server on its HTTP port and the next three) and stops when its test or the session ends;
screenshots go to ``$ARTIFACTS/browser``."""
import configparser
import contextlib
import datetime
import os
import shutil
import subprocess
import tempfile
import urllib.request
import xmlrpc.client

import pytest
from bookings_testing import wait_for
from bookings_testing.peer import start_peer
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

VENV = os.environ.get("VENV", os.path.join(ROOT, ".venv"))
ODOO_CONF = os.environ.get("ODOO_CONF", os.path.join(ROOT, "var", "odoo.conf"))
ARTIFACTS = os.path.join(os.environ.get("ARTIFACTS", os.path.join(ROOT, "artifacts")), "browser")
PEER_PORT = int(os.environ.get("BROWSER_PEER_PORT", 18443))
HTTP_PORT = int(os.environ.get("BROWSER_HTTP_PORT", 18269))
ADMIN = ("admin", "admin")

# French beside English, as in a company with French-speaking staff: each user picks a language; then the demo's month
FRENCH = 'env["base.language.install"].create({"lang": "fr_FR"}).lang_install()\n'


@pytest.fixture(scope="session")
def folder():
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    os.makedirs(ARTIFACTS)
    path = tempfile.mkdtemp(prefix="bookings-browser-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


#: libfaketime, which the processes of a faked day run under (the Debian package faketime)
FAKETIME_LIBRARY = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"


def faked_clock(moment):
    """The environment of a process whose clock reads ``moment`` (an aware datetime) as it starts, and runs on from
    there: libfaketime's offset from the real clock, the monotonic clock left real (the timeouts). Every process given
    it lives the same day; PostgreSQL's own ``now()`` stays real."""
    offset = round((moment - datetime.datetime.now(datetime.timezone.utc)).total_seconds())
    return {"LD_PRELOAD": FAKETIME_LIBRARY, "FAKETIME": "%+d" % offset, "FAKETIME_DONT_FAKE_MONOTONIC": "1"}


@contextlib.contextmanager
def demo_peer(folder, port, env=None):
    """The demo business of ``make demo`` (the add-on's demo data names it), its certificates in ``folder``."""
    os.makedirs(folder, exist_ok=True)
    process, connection = start_peer(folder, port, appointments=400, seed="demo", kind="salon",
                                     business="demo-salon@contoso.onmicrosoft.com",
                                     executable=os.path.join(VENV, "bin", "bookings-peer"), env=env)
    try:
        yield connection
    finally:
        process.terminate()
        process.wait()


@pytest.fixture(scope="session")
def peer(folder):
    with demo_peer(folder, PEER_PORT) as connection:
        yield connection


def odoo_environment(peer=None, clock=None):
    """Debian's lessc needs NODE_PATH; with a ``peer``, Odoo trusts its certificate authority as it would any
    host's."""
    environment = dict(os.environ, NODE_PATH=os.environ.get("NODE_PATH", "/usr/share/nodejs"), **(clock or {}))
    if peer:
        environment.update(REQUESTS_CA_BUNDLE=peer["ca_file"], BOOKINGS_PEER_URL=peer["url"])
    return environment


def odoo_command(database, *args, command=(), http_port=HTTP_PORT):
    return [os.path.join(VENV, "bin", "odoo")] + list(command) + [
        "-c", ODOO_CONF, "-d", database, "--http-port", str(http_port), "--longpolling-port", str(http_port + 3)
    ] + list(args)


def filestore(database):
    """Where Odoo keeps the files of ``database`` (its attachments: the web client's assets among them)."""
    config = configparser.ConfigParser()
    config.read(ODOO_CONF)
    return os.path.join(config.get("options", "data_dir"), "filestore", database)


def postgres(command, *args, check=True):
    """Run a PostgreSQL client ``command`` as Odoo's role."""
    subprocess.run([command, "-h", "127.0.0.1", "-p", os.environ.get("PGPORT", "5432"),
                    "-U", os.environ.get("DB_USER", "odoo")] + list(args),
                   env=dict(os.environ, PGPASSWORD=os.environ.get("DB_PASSWORD", "odoo")), check=check)


def drop_database(name):
    postgres("dropdb", "--if-exists", name, check=False)
    shutil.rmtree(filestore(name), ignore_errors=True)


@pytest.fixture(scope="session")
def installed(folder):
    """A database with the add-on and its demo data just installed: the template of the suite's databases."""
    name = "bookings_browser_%d_installed" % os.getpid()
    try:
        with open(os.path.join(ARTIFACTS, "odoo-install.log"), "w") as log:
            subprocess.run(odoo_command(name, "-i", "l10n_generic_coa,account_invoicing,bookings_invoicing",
                                        "--stop-after-init", "--log-level=warn"),
                           stdout=log, stderr=subprocess.STDOUT, check=True, timeout=900, env=odoo_environment())
        yield name
    finally:
        drop_database(name)


@contextlib.contextmanager
def demo_database(installed, name, environment, prelude=""):
    """A copy of ``installed`` whose demo business lives its month with the peer (``scripts/demo_setup.py``, after
    the Python ``prelude``), in ``environment``; dropped at the end."""
    with open(os.path.join(ROOT, "scripts", "demo_setup.py")) as script:
        set_up = prelude + script.read()
    try:
        postgres("createdb", "-T", installed, name)
        if os.path.isdir(filestore(installed)):  # as Odoo duplicates a database
            shutil.copytree(filestore(installed), filestore(name))
        with open(os.path.join(ARTIFACTS, "%s-set-up.log" % name), "w") as log:
            subprocess.run(odoo_command(name, "--no-http", "--log-level=warn", command=["shell"]), stdout=log,
                           stderr=subprocess.STDOUT, env=environment, check=True, timeout=600,
                           input=set_up, universal_newlines=True)
        yield name
    finally:
        drop_database(name)


@pytest.fixture(scope="session")
def database(installed, peer):
    """A database with the demo data in English and French, its demo business synchronized with the peer."""
    with demo_database(installed, "bookings_browser_%d" % os.getpid(), odoo_environment(peer), FRENCH) as name:
        yield name


@contextlib.contextmanager
def odoo_server(database, environment, http_port=HTTP_PORT):
    """An Odoo server of ``database`` on ``http_port``, its log in the artifacts; its address."""
    url = "http://127.0.0.1:%d" % http_port
    log_path = os.path.join(ARTIFACTS, "odoo.log" if http_port == HTTP_PORT else "odoo-%d.log" % http_port)
    with open(log_path, "w") as log:
        # no scheduled action: the hourly synchronization would run beside the manager's Synchronize now
        process = subprocess.Popen(odoo_command(database, "--db-filter", "^%s$" % database, "--workers=0",
                                                "--max-cron-threads=0", http_port=http_port),
                                   stdout=log, stderr=subprocess.STDOUT, env=environment)

        def ready():
            # Odoo 11's threaded server imports the add-ons for the first request while it loads the registry:
            # a request during that load can break the registry, so none is sent before the load has ended
            with open(log_path) as lines:
                if "odoo.modules.loading: Modules loaded." not in lines.read():
                    return False
            try:
                return urllib.request.urlopen(url + "/web/login", timeout=5).status == 200
            except OSError:
                return False

        def shutting_down():
            with open(log_path) as lines:
                return process.poll() is not None or "Initiating shutdown" in lines.read()

        try:
            wait_for(ready, "the Odoo server", timeout=120, process=process, interval=0.3)
            yield url
        finally:
            # A first signal starts a graceful shutdown, which waits for the browser's long-polling request (up to
            # 50 s); once it has started, a second one ends this throwaway server at once.
            process.terminate()
            wait_for(shutting_down, "the Odoo server's shutdown", timeout=120, interval=0.3)
            if process.poll() is None:
                process.terminate()
            process.wait(timeout=60)


@pytest.fixture(scope="session")
def server(database, peer):
    with odoo_server(database, odoo_environment(peer)) as url:
        yield url


class Rpc:
    """XML-RPC as one user: what the test compares the screens with."""

    def __init__(self, url, database, login, password):
        common = xmlrpc.client.ServerProxy(url + "/xmlrpc/2/common")
        self.uid = common.authenticate(database, login, password, {})
        assert self.uid, "login %s refused" % login
        self.models = xmlrpc.client.ServerProxy(url + "/xmlrpc/2/object", allow_none=True)
        self.database, self.password = database, password

    def __call__(self, model, method, *args, **kwargs):
        return self.models.execute_kw(self.database, self.uid, self.password, model, method, list(args), kwargs)


@pytest.fixture(scope="session")
def rpc(server, database):
    return lambda login=ADMIN[0], password=ADMIN[1]: Rpc(server, database, login, password)


@pytest.fixture(scope="session")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1440,900",
                     "--lang=en-US", "--disable-gpu"):
        options.add_argument(argument)
    # the browser goes to the local Bookings peer's sign-in page (delegated sign-in), whose certificate authority
    # only Odoo is given
    options.accept_insecure_certs = True
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")),
                              options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A screenshot of the screen as it was when a test failed, beside the others."""
    report = (yield).get_result()
    driver = item.funcargs.get("browser")
    if report.when == "call" and report.failed and driver is not None:
        driver.save_screenshot(os.path.join(ARTIFACTS, "failed-%s.png" % item.name))
