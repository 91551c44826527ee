#!/usr/bin/env python3
"""Checks that an Open311 XML answer says what its JSON twin says
(tests/integration/test_daemon_open311.c): o311_xml_json.py XML JSON.

The XML is parsed back with xml.etree (so escaping must have held) and walked
with the JSON: a list is an element whose children are its items, an object
an element whose children are its members in order, null an empty element,
true/false and numbers their text.  Exit 0 when equal, else 1 and the path.
"""
import json
import sys
import xml.etree.ElementTree as ET


def same(x, j, path):
    kids = list(x)
    if isinstance(j, list):
        if len(kids) != len(j):
            return f"{path}: {len(kids)} items in XML, {len(j)} in JSON"
        for i, (k, v) in enumerate(zip(kids, j)):
            d = same(k, v, f"{path}[{i}]")
            if d:
                return d
        return None
    if isinstance(j, dict):
        if [k.tag for k in kids] != list(j.keys()):
            return f"{path}: members {[k.tag for k in kids]} vs {list(j.keys())}"
        for k in kids:
            d = same(k, j[k.tag], f"{path}.{k.tag}")
            if d:
                return d
        return None
    text = x.text or ""
    if kids:
        return f"{path}: children where JSON has {j!r}"
    if j is None:
        return None if text == "" else f"{path}: {text!r} for null"
    if isinstance(j, bool):
        return None if text == ("true" if j else "false") else f"{path}: {text!r} vs {j}"
    if isinstance(j, (int, float)):
        return None if float(text) == float(j) else f"{path}: {text!r} vs {j}"
    return None if text == j else f"{path}: {text!r} vs {j!r}"


def main():
    root = ET.parse(sys.argv[1]).getroot()
    with open(sys.argv[2], encoding="utf-8") as f:
        j = json.load(f)
    d = same(root, j, root.tag)
    if d:
        print(d)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
