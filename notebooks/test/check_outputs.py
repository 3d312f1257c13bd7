#!/usr/bin/env python3
"""Checks an executed goinv notebook: every code cell ran; no error output except in
cells tagged "raises-exception" (which must have one); every cell tagged "figure"
produced a real PNG (image/png output). Used by the tests and by regenerate.sh.

    /usr/bin/python3 notebooks/test/check_outputs.py EXECUTED.ipynb [...]
"""
import base64
import json
import sys

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def source(cell):
    s = cell.get("source", "")
    return s if isinstance(s, str) else "".join(s)


def problems(nb):
    """Returns (problems, number of figure cells) for a parsed notebook."""
    out = []
    figures = 0
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code" or not source(cell).strip():
            continue
        first = source(cell).strip().splitlines()[0][:60]
        where = f"cell {i} ({first!r})"
        if cell.get("execution_count") is None:
            out.append(f"{where}: did not run")
        outs = cell.get("outputs", [])
        errors = [o for o in outs if o["output_type"] == "error"]
        if "raises-exception" in tags(cell):
            if not errors:
                out.append(f"{where}: tagged raises-exception but gave no error")
        elif errors:
            e = errors[0]
            tb = "\n".join(e.get("traceback", []))[-1500:]
            out.append(f"{where}: error {e.get('ename')}: {e.get('evalue')}\n{tb}")
        if "figure" in tags(cell):
            figures += 1
            pngs = [o["data"]["image/png"] for o in outs
                    if o["output_type"] in ("display_data", "execute_result")
                    and "image/png" in o.get("data", {})]
            if not pngs:
                out.append(f"{where}: tagged figure but produced no image/png")
            for p in pngs:
                data = base64.b64decode(p if isinstance(p, str) else "".join(p))
                if not data.startswith(PNG_MAGIC) or len(data) < 200:
                    out.append(f"{where}: image/png output is not a real PNG ({len(data)} bytes)")
    if figures == 0:
        out.append("no cell is tagged figure")
    return out, figures


def main(paths):
    bad = 0
    for p in paths:
        with open(p) as f:
            probs, figures = problems(json.load(f))
        if probs:
            bad += 1
            print(f"{p}: {len(probs)} problem(s):")
            for x in probs:
                print("  " + x.replace("\n", "\n    "))
        else:
            print(f"{p}: ok ({figures} figure cells with images)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
