"""publisher: dated research digests → RSS, Atom and JSON feeds, email issues and a web archive."""

__version__ = "0.1.0"
