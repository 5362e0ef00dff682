"""soles: build and query the Cartel of the Suns knowledge graph."""

__version__ = "0.1.0"
