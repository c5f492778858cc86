"""The configuration an integrator copies from the README and the add-on's README.rst is accepted by the programs that
read it, and means what the text says: Odoo 11's own configuration parser, and queue_job's channel parser fed what
its runner reads (``config.misc["queue_job"]["channels"]``). The commands of *Installing the add-on elsewhere* are
run as written by the packaging test."""
import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: What the README says each channel's capacity does: two jobs at once in all, one business at a time, two parts.
CAPACITIES = {"root": 2, "root.bookings_sync": 1, "root.bookings_invoicing": 2}
READ = """
import json, sys
import odoo
from odoo.addons.queue_job.jobrunner.channels import ChannelManager
odoo.tools.config.parse_config(["-c", sys.argv[1]])
config = odoo.tools.config
channels = ChannelManager.parse_simple_config(config.misc.get("queue_job", {}).get("channels") or "root:1")
print(json.dumps({"server_wide_modules": config["server_wide_modules"], "workers": config["workers"],
                  "limit_time_cpu": config["limit_time_cpu"], "limit_time_real": config["limit_time_real"],
                  "channels": {channel["name"]: channel["capacity"] for channel in channels}}))
"""


def snippets():
    """``(file, text)`` of each configuration snippet: the README's ``ini`` blocks, README.rst's literal blocks that
    hold an ``[options]`` section."""
    with open(os.path.join(ROOT, "README.md")) as readme:
        found = [("README.md", block) for block in re.findall(r"```ini\n(.*?)```", readme.read(), re.S)]
    with open(os.path.join(ROOT, "bookings_invoicing", "README.rst")) as readme:
        for block in re.findall(r"::\n\n((?:    .*\n|\n)+)", readme.read()):
            if "[options]" in block:
                found.append(("README.rst", "\n".join(line[4:] for line in block.splitlines())))
    assert {name for name, _block in found} == {"README.md", "README.rst"}
    return found


@pytest.mark.parametrize("name, snippet", snippets())
def test_a_configuration_snippet_is_read_as_the_text_says(tmp_path, name, snippet):
    path = tmp_path / "odoo.conf"
    path.write_text(snippet)
    done = subprocess.run([sys.executable, "-c", READ, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    read = json.loads(done.stdout.strip().splitlines()[-1])
    assert "queue_job" in read["server_wide_modules"].split(","), "the job runner starts with the server"
    assert read["channels"] == CAPACITIES, name
    if "workers" in snippet:
        assert (read["workers"], read["limit_time_cpu"], read["limit_time_real"]) == (4, 60, 120)

