"""The reference Cyme branch: a stateful server for the Cyme branch API."""

__version__ = "1.0.0"
