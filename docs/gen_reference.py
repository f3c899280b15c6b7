"""Write the generated reference pages: the study-file reference (from the validator) and the
command-line reference (from the parser). Run after changing either; a test compares.

    python docs/gen_reference.py
"""

from pathlib import Path

from algoreg import clidoc
from algoreg.studies import reference

HERE = Path(__file__).resolve().parent

PAGES = {
    "study-file.md": reference.markdown,
    "cli.md": clidoc.markdown,
    "presets.md": reference.presets_markdown,
}

if __name__ == "__main__":
    for name, write in PAGES.items():
        path = HERE / "reference" / name
        path.write_text(write())
        print(f"wrote {path}")
