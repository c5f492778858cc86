from setuptools import setup

setup(
    name="bookings-peer",
    version="1.0.0",
    description="A local HTTPS peer that speaks the Microsoft Graph Bookings protocol, for demos, tests and "
                "benchmarks.",
    license="LGPL-3",
    packages=["bookings_peer"],
    python_requires=">=3.7",
    install_requires=["trustme"],
    entry_points={"console_scripts": ["bookings-peer = bookings_peer.__main__:main"]},
)
