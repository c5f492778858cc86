from setuptools import setup

setup(
    name="bookings-peer",
    version="1.0.0",
    description="A local HTTPS peer that speaks the Microsoft Graph Bookings protocol, for demos, tests and "
                "benchmarks, and the tools that start it and Odoo for the test suites and the benchmarks.",
    license="LGPL-3",
    packages=["bookings_peer", "bookings_testing"],
    python_requires=">=3.7",
    install_requires=["trustme"],
    entry_points={"console_scripts": ["bookings-peer = bookings_peer.__main__:main"]},
)
