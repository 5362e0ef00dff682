"""Benchmarks of soles against Oxigraph server, rdflib-endpoint and a bare Flask+pyoxigraph wrapper."""
