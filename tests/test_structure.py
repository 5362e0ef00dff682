"""How server/ and kg/ are laid out: HTTP rules applied app-wide, one way to write a query, no import cycle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from pyoxigraph import Store

from kg.ids import PREFIXES

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "server"
KG = ROOT / "kg"
QUERY_FOLDERS = (SERVER / "pages" / "queries", KG / "queries")
MODULES = sorted(SERVER.rglob("*.py")) + sorted(KG.glob("*.py"))
# kg.shacl compiles the shapes into SPARQL: writing queries from data is what it is for.
QUERY_WRITERS = {KG / "shacl.py"}
# A query form or WHERE, then a group: SPARQL, not an error message naming a form nor SQL.
SPARQL_QUERY = re.compile(r"\b(SELECT|CONSTRUCT|ASK|DESCRIBE|WHERE)\b[^{]*\{")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


# ---------------------------------------------------------------- HTTP rules, app-wide


@pytest.mark.parametrize("path, accept", [
    ("/downloads", None),
    ("/downloads.json", None),
    ("/downloads/no-such-file", None),
    ("/sparql", "text/html"),
    ("/sparql", "text/turtle"),
    ("/sparql?query=ASK%20%7B%7D", "application/sparql-results+json"),
    ("/sparql?query=SELEC", None),
    ("/void", None),
    ("/", None),
    ("/id/person/alice-example", None),
    ("/id/person/alice-example.ttl", None),
    ("/search?q=alice&format=json", None),
    ("/id/person/nobody-at-all", None),
    ("/static/no-such-file.css", None),
    ("/timeline.json", None),
    ("/network.gexf", None),
    ("/allegations.csv", None),
    ("/contested.json", None),
    ("/dossier/person/alice-example.csv", None),
    ("/id/person/alice-example.ftm.json", None),
    ("/downloads/soles.ftm.json", None),
    ("/reconcile", None),
    ("/suggest?q=ali", None),
])
def test_every_response_carries_the_security_headers(client, path, accept):
    response = client.get(path, headers={"Accept": accept} if accept else {})
    response.close()
    policy = response.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "object-src 'none'" in policy, path
    assert response.headers.get("X-Content-Type-Options") == "nosniff", path
    assert response.headers.get("Referrer-Policy") == "same-origin", path
    assert response.headers.get("Access-Control-Allow-Origin") == "*", f"{path}: a read open to other origins"


def test_the_security_headers_cover_errors_and_the_query_page(client):
    assert client.get("/id/person/nobody-at-all").status_code == 404
    assert client.get("/sparql", query_string={"query": "SELEC"}).status_code == 400
    page = client.get("/sparql", headers={"Accept": "text/html"})
    assert page.mimetype == "text/html" and "yasgui" in page.get_data(as_text=True)
    assert client.get("/sparql", query_string={"query": "ASK {}"}).mimetype == "application/sparql-results+json"


# ---------------------------------------------------------------- the pages' queries


def query_files() -> list[Path]:
    return sorted(path for folder in QUERY_FOLDERS for path in folder.glob("*.rq"))


def strings_in_code(path: Path) -> list[str]:
    """The string literals of a module, its docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and ast.get_docstring(node)}
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


@pytest.mark.parametrize("path", sorted(set(MODULES) - QUERY_WRITERS), ids=module_name)
def test_modules_write_no_query_in_python(path):
    """Queries are .rq files next to the module that runs them; Python holds one-line list patterns only."""
    for text in strings_in_code(path):
        assert not SPARQL_QUERY.search(text), f"{path.name} writes SPARQL: {text}"


@pytest.mark.parametrize("path", query_files(), ids=lambda path: path.stem)
def test_each_query_is_used_and_well_formed(path):
    users = [module for module in MODULES if f'"{path.stem}"' in module.read_text(encoding="utf-8")]
    assert users, f"{path.name} is run by no module"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# "), f"{path.name} does not open with a comment saying what it asks"
    slots = re.findall(r"^[ \t]*(#[A-Z]+#)[ \t]*$", text, flags=re.MULTILINE)
    assert set(slots) <= {"#VALUES#", "#LISTS#"}
    # Run as it is (placeholders are comments) on an empty store: the engine parses it.
    Store().query(text, prefixes=PREFIXES)


def test_bound_variables_are_placed_only_at_a_placeholder(app):
    from server.pages.record import query_text

    with app.app_context():
        filled = query_text("resource", this="https://w3id.org/soles/id/person/alice-example")
        assert "VALUES ?this { <https://w3id.org/soles/id/person/alice-example> }" in filled
        assert "#VALUES#" not in filled
        with pytest.raises(ValueError, match="no #LISTS# line"):
            query_text("resource", lists="{ ?item ?p ?this }")
        with pytest.raises(ValueError):
            query_text("resource", this="not an IRI")


# ---------------------------------------------------------------- modules


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_each_module_opens_with_a_line_saying_what_it_does(path):
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert docstring and docstring.splitlines()[0].strip(), f"{module_name(path)} has no docstring"


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The modules of ours ``path`` imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {f"{node.module}.{alias.name}" for alias in node.names} | {node.module}
    # "from server.pages import actor" imports the module server.pages.actor; "server.pages" alone is the package.
    itself = module_name(path)
    return {name for name in found if name in known and name != itself and not itself.startswith(name + ".")}


def test_no_module_imports_itself_back():
    known = {module_name(path) for path in MODULES}
    graph = {module_name(path): imports_of(path, known) for path in MODULES}
    for start in graph:
        seen, stack = set(), [(start, (start,))]
        while stack:
            module, route = stack.pop()
            for imported in graph[module]:
                assert imported != start, f"import cycle: {' -> '.join(route + (imported,))}"
                if imported not in seen:
                    seen.add(imported)
                    stack.append((imported, route + (imported,)))
