import setuptools

setuptools.setup(
    setup_requires=['setuptools-odoo'],
    # the manifest's version, as released: no development suffix counted from the commits since it changed
    odoo_addon={"post_version_strategy_override": "none"},
)
