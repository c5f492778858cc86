"""Write the add-on's README.rst from its manifest and its readme/ fragments, as OCA add-ons have it; the
packaged distribution shows it as its description. ``--check`` fails when the committed file is out of date.

OCA generates these files with ``oca-gen-addon-readme`` of its maintainer-tools, which no package registry
publishes (``pip install oca-maintainers-tools``: no matching distribution) and which this machine cannot fetch from
GitHub; this script writes the same sections from the same fragments, without OCA's badges and links."""
import ast
import os
import sys

ADDON = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bookings_invoicing")
SECTIONS = (("DESCRIPTION", None), ("CONFIGURE", "Configuration"), ("USAGE", "Usage"),
            ("ROADMAP", "Known issues / Roadmap"), ("CONTRIBUTORS", "Contributors"))


def render():
    with open(os.path.join(ADDON, "__manifest__.py")) as handle:
        manifest = ast.literal_eval(handle.read())
    title = manifest["name"]
    parts = ["=" * len(title), title, "=" * len(title), "", manifest["summary"] + ".", ""]
    for fragment, heading in SECTIONS:
        with open(os.path.join(ADDON, "readme", fragment + ".rst")) as handle:
            text = handle.read().strip()
        if heading:
            parts += [heading, "=" * len(heading), ""]
        parts += [text, ""]
    parts += ["Credits", "=======", "",
              "Authors: %s. Maintainers: %s. License: %s." % (
                  manifest["author"], ", ".join(manifest["maintainers"]), manifest["license"]),
              "", manifest["website"], ""]
    return "\n".join(parts)


def main(argv):
    path = os.path.join(ADDON, "README.rst")
    text = render()
    if "--check" in argv:
        with open(path) as handle:
            if handle.read() != text:
                sys.exit("%s is out of date: run python scripts/addon_readme.py" % path)
        return
    with open(path, "w") as handle:
        handle.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
