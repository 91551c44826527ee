#!/usr/bin/env python3
"""Compares an xlsx export with the CSV export of the same period, cell by cell.

    xlsx_cells.py FILE.xlsx FILE.csv

Reads the zip with the standard library only (zipfile, xml.etree): the first
sheet, its inline or shared strings and the styles.  Every cell must show
the CSV's text, in the type a spreadsheet needs:
  - a CSV time (2025-03-03T09:00:00+08:00) is a number with a date format
    whose value is that local time;
  - true/false is a boolean cell;
  - an integer is a number cell;
  - anything else is a string; an empty CSV field is an absent cell.
And the header row is bold and frozen, every column has a width.
Prints "ok ROWS rows COLS columns" and exits 0, or the differences and 1.
"""
import csv
import datetime
import re
import sys
import zipfile
import xml.etree.ElementTree as ET

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
TIME = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\+08:00$")
INT = re.compile(r"^-?\d+$")
EXCEL_EPOCH = datetime.datetime(1899, 12, 30)
BUILTIN_DATE_FORMATS = set(range(14, 23)) | set(range(45, 48))


def col_index(ref):
    letters = re.match(r"[A-Z]+", ref).group(0)
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def unescape(s):
    # OOXML writes control characters as _xHHHH_
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), s)


def text_of(el):
    return "".join(t.text or "" for t in el.iter("{%s}t" % NS["m"]))


def load(path):
    z = zipfile.ZipFile(path)
    if z.testzip() is not None:
        raise SystemExit("corrupt member in %s" % path)
    sheet = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
    styles = ET.fromstring(z.read("xl/styles.xml"))
    shared = []
    if "xl/sharedStrings.xml" in z.namelist():
        sst = ET.fromstring(z.read("xl/sharedStrings.xml"))
        shared = [text_of(si) for si in sst.findall("m:si", NS)]
    fonts = styles.findall("m:fonts/m:font", NS)
    bold_fonts = {i for i, f in enumerate(fonts) if f.find("m:b", NS) is not None}
    custom = {int(f.get("numFmtId")): f.get("formatCode")
              for f in styles.findall("m:numFmts/m:numFmt", NS)}
    xfs = []
    for xf in styles.findall("m:cellXfs/m:xf", NS):
        fmt = int(xf.get("numFmtId", "0"))
        is_date = fmt in BUILTIN_DATE_FORMATS or (
            fmt in custom and "yy" in custom[fmt].lower())
        xfs.append((int(xf.get("fontId", "0")) in bold_fonts, is_date, custom.get(fmt)))
    return z, sheet, shared, xfs


def cell_value(c, shared, xfs):
    """(type, text as the CSV would show it, style) of one <c>."""
    t = c.get("t", "n")
    style = xfs[int(c.get("s", "0"))]
    v = c.find("m:v", NS)
    if t == "inlineStr":
        return "string", unescape(text_of(c.find("m:is", NS))), style
    if t == "s":
        return "string", unescape(shared[int(v.text)]), style
    if t == "b":
        return "bool", "true" if v.text == "1" else "false", style
    if t == "str":
        return "string", v.text or "", style
    num = float(v.text)
    if style[1]:
        at = EXCEL_EPOCH + datetime.timedelta(days=num)
        at = (at + datetime.timedelta(microseconds=500000)).replace(microsecond=0)
        return "time", at.strftime("%Y-%m-%dT%H:%M:%S+08:00"), style
    return "number", str(int(num)) if num == int(num) else repr(num), style


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 64
    z, sheet, shared, xfs = load(sys.argv[1])
    with open(sys.argv[2], encoding="utf-8-sig", newline="") as f:
        want = list(csv.reader(f))
    bad = []
    rows = sheet.findall("m:sheetData/m:row", NS)
    if len(rows) != len(want):
        bad.append("%d rows in the sheet, %d in the CSV" % (len(rows), len(want)))
    width = len(want[0]) if want else 0
    for r, (row, csv_row) in enumerate(zip(rows, want)):
        if int(row.get("r")) != r + 1:
            bad.append("row %s where %d was due" % (row.get("r"), r + 1))
        got = {}
        for c in row.findall("m:c", NS):
            got[col_index(c.get("r"))] = cell_value(c, shared, xfs)
        if got and max(got) >= len(csv_row):
            bad.append("row %d: a cell past the CSV's %d columns" % (r + 1, len(csv_row)))
        for i, text in enumerate(csv_row):
            cell = got.get(i)
            where = "row %d column %d (%s)" % (r + 1, i + 1, want[0][i])
            if text == "":
                if cell is not None:
                    bad.append("%s: %r where the CSV is empty" % (where, cell[1]))
                continue
            if cell is None:
                bad.append("%s: empty where the CSV has %r" % (where, text))
                continue
            kind, shown, style = cell
            if r == 0:
                need = "string"
                if not style[0]:
                    bad.append("%s: the header is not bold" % where)
            elif TIME.match(text):
                need = "time"
                if "yyyy" not in (style[2] or "") or "hh:mm" not in (style[2] or ""):
                    bad.append("%s: date format %r" % (where, style[2]))
            elif text in ("true", "false"):
                need = "bool"
            elif INT.match(text):
                need = "number"
            else:
                need = "string"
            if kind != need:
                bad.append("%s: a %s cell, a %s is due (%r)" % (where, kind, need, text))
            if shown != text:
                bad.append("%s: %r, the CSV has %r" % (where, shown, text))
    pane = sheet.find("m:sheetViews/m:sheetView/m:pane", NS)
    if pane is None or pane.get("state") != "frozen" or pane.get("ySplit") != "1":
        bad.append("the header row is not frozen")
    cols = sheet.findall("m:cols/m:col", NS)
    covered = set()
    for col in cols:
        if float(col.get("width", "0")) < 4:
            bad.append("column %s is %s wide" % (col.get("min"), col.get("width")))
        covered.update(range(int(col.get("min")) - 1, int(col.get("max"))))
    if not covered.issuperset(range(width)):
        bad.append("columns without a width: %s" % sorted(set(range(width)) - covered))
    if bad:
        print("\n".join(bad[:40]))
        return 1
    print("ok %d rows %d columns" % (len(rows), width))
    return 0


if __name__ == "__main__":
    sys.exit(main())
