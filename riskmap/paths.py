"""Where the project's data folders live (the repository root beside the package)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS_DIR = ROOT / "layers"
DATA_DIR = ROOT / "data"
RESOURCES_DIR = ROOT / "resources"
STANDARDS_DIR = RESOURCES_DIR / "standards"
FONTS_DIR = RESOURCES_DIR / "fonts"
TEMPLATES_DIR = RESOURCES_DIR / "templates"
I18N_DIR = RESOURCES_DIR / "i18n"
WEB_DIR = RESOURCES_DIR / "web"
