#!/usr/bin/env python3
"""Builds the notebooks from their sources in notebooks/src (cells without outputs).

    /usr/bin/python3 notebooks/build.py           write notebooks/NN-name.ipynb from src/NN-name.cells
    /usr/bin/python3 notebooks/build.py --check   exit 1 if a notebook's cells differ from its source

A source is plain text; a line starting with "//%%" starts a cell:

    //%% md                    a Markdown cell
    //%% code                  a code cell (Go, run by goinv)
    //%% code figure           a code cell with tags (here "figure"; also raises-exception)

The .cells sources exist so that diffs of the notebooks' code and text are readable;
regenerate.sh builds from them and then executes every notebook with `goinv run`,
which fills in the outputs. Building keeps the outputs of code cells whose text did
not change. Only the standard library is used.
"""
import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent

METADATA = {
    "kernelspec": {"name": "goinv", "display_name": "Go (goinv)", "language": "go"},
    "language_info": {"name": "go", "file_extension": ".go", "mimetype": "text/x-go",
                      "pygments_lexer": "go", "codemirror_mode": "go"},
}


def parse(path):
    cells = []
    kind, tags, lines = None, [], []

    def flush():
        if kind is None:
            return
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        src = "\n".join(lines)
        cell = {"cell_type": "markdown" if kind == "md" else "code", "metadata": {}, "source": src}
        if tags:
            cell["metadata"]["tags"] = list(tags)
        if kind == "code":
            cell["execution_count"] = None
            cell["outputs"] = []
        cells.append(cell)

    for line in path.read_text().splitlines():
        if line.startswith("//%%"):
            flush()
            words = line[4:].split()
            if not words or words[0] not in ("md", "code"):
                raise SystemExit(f"{path}: bad cell marker {line!r}")
            kind, tags, lines = words[0], words[1:], []
        elif kind is None:
            if line.strip():
                raise SystemExit(f"{path}: text before the first //%% marker")
        else:
            lines.append(line)
    flush()
    return cells


def split_source(src):
    out = src.splitlines(keepends=True)
    return out


def build(src_path):
    cells = parse(src_path)
    for i, c in enumerate(cells):
        c["id"] = f"{src_path.stem[:2]}-{i:02d}"
        c["source"] = split_source(c["source"])
    return {"cells": cells, "metadata": METADATA, "nbformat": 4, "nbformat_minor": 5}


def cell_key(c):
    src = c["source"] if isinstance(c["source"], str) else "".join(c["source"])
    return (c["cell_type"], src, tuple(c.get("metadata", {}).get("tags", [])))


def keep_outputs(nb, dest):
    """Carries over the outputs of cells whose text did not change, so that building
    after an edit does not throw away the results of a long run."""
    if not dest.exists():
        return
    old = json.loads(dest.read_text())
    by_key = {}
    for c in old["cells"]:
        if c["cell_type"] == "code":
            by_key.setdefault(cell_key(c), c)
    for c in nb["cells"]:
        o = by_key.get(cell_key(c))
        if c["cell_type"] == "code" and o is not None:
            c["outputs"] = o.get("outputs", [])
            c["execution_count"] = o.get("execution_count")


def main():
    check = "--check" in sys.argv[1:]
    bad = 0
    for src in sorted((HERE / "src").glob("*.cells")):
        nb = build(src)
        dest = HERE / (src.stem + ".ipynb")
        if check:
            if not dest.exists():
                print(f"{dest.name}: missing (run notebooks/build.py)")
                bad += 1
                continue
            have = json.loads(dest.read_text())
            if [cell_key(c) for c in have["cells"]] != [cell_key(c) for c in nb["cells"]]:
                print(f"{dest.name}: cells differ from src/{src.name} (run notebooks/regenerate.sh)")
                bad += 1
            continue
        keep_outputs(nb, dest)
        dest.write_text(json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n")  # as goinv run writes it
        print(f"built {dest.relative_to(HERE.parent)} ({len(nb['cells'])} cells)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
