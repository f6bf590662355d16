"""commerce-ai shared package: domain code, artifact store, config, telemetry and AWS adapters.

Shipped to Lambda as the `core` layer; importable in development through `pip install -e .`.
"""

__version__ = "0.1.0"
