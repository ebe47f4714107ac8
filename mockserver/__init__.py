"""mockserver: a mock server and contract-testing kit for bulk-export APIs."""

__version__ = "0.1.0"
