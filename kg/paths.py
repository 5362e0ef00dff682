"""Where the project's own files live, relative to this checkout."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY_FILE = PROJECT_ROOT / "ontology" / "soles.ttl"
SHAPES_FILE = PROJECT_ROOT / "ontology" / "shapes.ttl"
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_BUILD_DIR = PROJECT_ROOT / "build"
