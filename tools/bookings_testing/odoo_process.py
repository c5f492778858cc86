"""An Odoo server in a process of its own, and the ways in from outside it (XML-RPC, PostgreSQL): the integration
suite and the benchmarks."""
import configparser
import os
import subprocess
import sys
import urllib.request
import xmlrpc.client
from contextlib import contextmanager

from . import wait_for


@contextmanager
def running_odoo(environment, conf, database, port, log_path, *options):
    """An Odoo server of ``conf`` on 127.0.0.1:``port`` over ``database`` alone, with ``options``; yields its URL
    once it answers and stops it at the end. Its log goes to ``log_path``."""
    url = "http://127.0.0.1:%d" % port
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable), "odoo"), "-c", conf, "-d", database,
             "--db-filter", "^%s$" % database, "--http-port=%d" % port, "--longpolling-port=%d" % (port + 3),
             "--log-level=warn"] + list(options),
            stdout=log, stderr=subprocess.STDOUT, env=environment)
        def answers():
            try:
                return bool(urllib.request.urlopen(url + "/web/login", timeout=5))
            except OSError:
                return None

        try:
            wait_for(answers, "the Odoo server", timeout=120, process=process, interval=0.5)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=60)


class Rpc:
    """One user's XML-RPC connection to the Odoo server (a proxy per thread: xmlrpc.client is not thread-safe)."""

    def __init__(self, url, database, login):
        self.url, self.database, self.login = url, database, login
        self.uid = xmlrpc.client.ServerProxy(url + "/xmlrpc/2/common").authenticate(database, login, login, {})
        assert self.uid, "login %s refused" % login

    def __call__(self, model, method, *args):
        proxy = xmlrpc.client.ServerProxy(self.url + "/xmlrpc/2/object", allow_none=True)
        return proxy.execute_kw(self.database, self.uid, self.login, model, method, list(args))


def pg_connect(conf, database):
    """A connection of one's own to ``database``, with the settings of the Odoo configuration ``conf``."""
    import psycopg2

    config = configparser.ConfigParser()
    config.read(conf)
    options = config["options"]
    return psycopg2.connect(dbname=database, host=options.get("db_host"), port=options.get("db_port"),
                            user=options.get("db_user"), password=options.get("db_password"))
