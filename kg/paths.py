"""Where the project's own files live: in this checkout, or inside the installed package.

From a checkout (an editable install, or ``python -m kg.cli`` in the repository) everything is beside
``kg/``: ``ontology/``, ``data/``, ``build/``. An installed wheel carries the ontology and shapes as the
package data ``kg/ontology/`` (pyproject.toml maps the top-level ``ontology/`` folder there) and has no
curated data of its own: ``data/`` and ``build/`` are then looked for in the working directory, and
``kg build`` says so when there is no ``data/`` there.
"""

from importlib.resources import files
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent
IN_CHECKOUT = (_CHECKOUT / "ontology" / "soles.ttl").is_file() and (_CHECKOUT / "pyproject.toml").is_file()

PROJECT_ROOT = _CHECKOUT if IN_CHECKOUT else Path.cwd()
ONTOLOGY_DIR = _CHECKOUT / "ontology" if IN_CHECKOUT else Path(str(files("kg") / "ontology"))
ONTOLOGY_FILE = ONTOLOGY_DIR / "soles.ttl"
SHAPES_FILE = ONTOLOGY_DIR / "shapes.ttl"
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_BUILD_DIR = PROJECT_ROOT / "build"
