"""The add-on ships as OCA ships Odoo 11 add-ons: an ``odoo11-addon-bookings_invoicing`` distribution built with
setuptools-odoo from ``setup/bookings_invoicing``. It is built from the committed tree, installed into a fresh
virtual environment next to an Odoo 11 installation, and Odoo finds the add-on there."""
import ast
import email.parser
import glob
import json
import os
import subprocess
import sys
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON37 = os.environ.get("PYTHON37", "/root/.pyenv/versions/3.7.16/bin/python3.7")
SITE = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
with open(os.path.join(ROOT, "bookings_invoicing", "__manifest__.py")) as _manifest:
    VERSION = ast.literal_eval(_manifest.read())["version"]  # the release the distribution must carry
FIND_ADDON = """
import json, odoo
odoo.tools.config.parse_config([])
from odoo.modules import module
manifest = module.load_information_from_description_file("bookings_invoicing")
print(json.dumps([module.get_module_path("bookings_invoicing"), manifest["installable"], manifest["version"]]))
"""


def run(*command):
    done = subprocess.run([str(part) for part in command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:]
    return done.stdout


def readme_block(section, language):
    """The code block of ``language`` under the README's heading ``section``: what an integrator copies."""
    with open(os.path.join(ROOT, "README.md")) as readme:
        text = readme.read()
    part = text.split("\n## %s\n" % section, 1)[1].split("\n## ", 1)[0]
    return part.split("```%s\n" % language, 1)[1].split("```", 1)[0]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("packaging")


@pytest.fixture(scope="module")
def target(folder):
    """Odoo's environment as an integrator has it: a fresh Python 3.7 environment beside an Odoo 11 installation."""
    target = folder / "target"
    run(PYTHON37, "-m", "venv", target)
    target_site = run(target / "bin" / "python", "-c", SITE).strip()
    odoo_site = run(os.path.join(ROOT, ".venv", "bin", "python"), "-c", SITE).strip()
    with open(os.path.join(target_site, "odoo11-server.pth"), "w") as handle:
        handle.write(odoo_site + "\n")  # Odoo 11, installed beside
    return target


@pytest.fixture(scope="module")
def wheel(folder, target):
    """The distribution, built and installed by the README's commands as written, from a clone of the committed
    tree (what a release contains), with the ``python`` of ``target``."""
    source = folder / "source"
    run("git", "clone", "--quiet", ROOT, source)
    environment = dict(os.environ, PATH="%s:%s" % (target / "bin", os.environ["PATH"]),
                       PIP_DISABLE_PIP_VERSION_CHECK="1")
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", readme_block("Installing the add-on elsewhere", "sh")],
                          cwd=str(source), env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:]
    wheels = glob.glob(str(source / "dist" / "*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_the_distribution_is_named_and_versioned_the_oca_way(wheel):
    assert os.path.basename(wheel) == "odoo11_addon_bookings_invoicing-%s-py2.py3-none-any.whl" % VERSION
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata_name = next(name for name in names if name.endswith(".dist-info/METADATA"))
        metadata = email.parser.Parser().parsestr(archive.read(metadata_name).decode("utf-8"))
    assert metadata["Name"] == "odoo11-addon-bookings-invoicing"
    assert metadata["License"] == "LGPL-3"
    requirements = set(metadata.get_all("Requires-Dist"))
    assert {"msal", "isodate", "tzlocal", "python-dateutil", "pytz"} <= requirements  # external_dependencies
    assert any(r.replace(" ", "").startswith("odoo<11.1dev,>=11.0a") for r in requirements), requirements
    assert "Uninvoiced Bookings" in metadata.get_payload()  # the add-on's README.rst is the long description
    addon = "odoo/addons/bookings_invoicing/"
    for path in ("__manifest__.py", "i18n/fr.po", "i18n/bookings_invoicing.pot", "static/description/icon.png",
                 "static/src/js/datetime_minutes.js",
                 "views/bookings_appointment_views.xml", "security/ir.model.access.csv", "graph/client.py"):
        assert addon + path in names, path
    assert not [name for name in names if name in ("odoo/__init__.py", "odoo/addons/__init__.py")], \
        "the distribution must not replace Odoo's own packages"


def test_odoo_finds_the_installed_addon_in_a_fresh_environment(wheel, target):
    target_site = run(target / "bin" / "python", "-c", SITE).strip()
    path, installable, version = json.loads(run(target / "bin" / "python", "-c", FIND_ADDON).splitlines()[-1])
    assert path == os.path.join(target_site, "odoo", "addons", "bookings_invoicing")
    assert (installable, version) == (True, VERSION)
    # the dependencies at the versions tested, and queue_job beside the add-on
    frozen = run(target / "bin" / "python", "-m", "pip", "freeze", "--all")
    with open(os.path.join(ROOT, "requirements", "addon.txt")) as pins:
        for pin in (line.strip() for line in pins if line.strip() and not line.startswith("#")):
            assert pin.lower() in frozen.lower(), pin
    assert "odoo11-addon-queue-job==11.0.1.4.0" in frozen.lower()


def test_the_addon_readme_is_built_from_its_fragments():
    run(sys.executable, os.path.join(ROOT, "scripts", "addon_readme.py"), "--check")
