#!/usr/bin/env python3
"""Prometheus text format (0.0.4), read line by line, for the e2e tests.

  promtext.py check FILE             every rule below; prints what breaks
  promtext.py get FILE NAME [k=v..]  the sum of NAME's samples whose labels
                                     hold every k=v (nothing: "none")
  promtext.py max FILE NAME [k=v..]  their largest value
  promtext.py has FILE NAME [k=v..]  exit 0 when one such sample exists

Rules: a line is a "# HELP name text", a "# TYPE name type" (counter, gauge,
histogram, summary, untyped), another comment, or a sample
`name{label="value",...} value [timestamp]` with valid names, escapes and a
float value; one TYPE per family, before its samples; a family's samples
together; no series twice; a histogram's buckets per series cumulative,
ending at le="+Inf" equal to its _count, with a _sum.
"""
import math
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
SAMPLE = re.compile(r"^(" + NAME + r")(?:\{(.*)\})? (\S+)(?: (-?\d+))?$")
LABEL_PAIR = re.compile(r'(' + LABEL + r')="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def parse_labels(s):
    out, pos = {}, 0
    if s is None or s == "":
        return out
    while pos < len(s):
        m = LABEL_PAIR.match(s, pos)
        if not m:
            raise ValueError("bad labels at %r" % s[pos:])
        if m.group(1) in out:
            raise ValueError("label %s twice" % m.group(1))
        out[m.group(1)] = m.group(2)
        pos = m.end()
        if m.group(3) == "" and pos != len(s):
            raise ValueError("bad labels")
    return out


def value(s):
    if s in ("+Inf", "Inf"):
        return math.inf
    if s == "-Inf":
        return -math.inf
    if s == "NaN":
        return math.nan
    return float(s)


def family_of(name, types):
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and types.get(name[: -len(suffix)]) in ("histogram", "summary"):
            return name[: -len(suffix)]
    return name


def read(path):
    errors, samples, types, helps = [], [], {}, {}
    seen_series, done_families, current = set(), set(), None
    for i, line in enumerate(open(path, encoding="utf-8").read().split("\n"), 1):
        if line == "":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not re.fullmatch(NAME, name):
                    errors.append("line %d: bad name %r" % (i, name))
                    continue
                if parts[1] == "TYPE":
                    t = parts[3] if len(parts) > 3 else ""
                    if t not in TYPES:
                        errors.append("line %d: bad type %r" % (i, t))
                    if name in types:
                        errors.append("line %d: second TYPE for %s" % (i, name))
                    if name in done_families or any(family_of(s[0], types) == name for s in samples):
                        errors.append("line %d: TYPE of %s after its samples" % (i, name))
                    types[name] = t
                else:
                    if name in helps:
                        errors.append("line %d: second HELP for %s" % (i, name))
                    helps[name] = parts[3] if len(parts) > 3 else ""
            continue
        m = SAMPLE.match(line)
        if not m:
            errors.append("line %d: not a sample: %r" % (i, line[:200]))
            continue
        name, labels_s, v = m.group(1), m.group(2), m.group(3)
        try:
            labels = parse_labels(labels_s)
            val = value(v)
        except ValueError as e:
            errors.append("line %d: %s: %r" % (i, e, line[:200]))
            continue
        fam = family_of(name, types)
        if fam != current:
            if fam in done_families:
                errors.append("line %d: samples of %s not together" % (i, fam))
            if current is not None:
                done_families.add(current)
            current = fam
        key = (name, tuple(sorted(labels.items())))
        if key in seen_series:
            errors.append("line %d: series twice: %r" % (i, line[:200]))
        seen_series.add(key)
        samples.append((name, labels, val))
    # Histograms: per series (labels but le), cumulative buckets to +Inf = _count.
    for fam, t in types.items():
        if t != "histogram":
            continue
        series = {}
        for name, labels, val in samples:
            if name == fam + "_bucket":
                rest = tuple(sorted((k, x) for k, x in labels.items() if k != "le"))
                series.setdefault(rest, {"b": [], "sum": None, "count": None})["b"].append(
                    (value(labels.get("le", "nan")), val))
        for name, labels, val in samples:
            rest = tuple(sorted(labels.items()))
            if name == fam + "_sum" and rest in series:
                series[rest]["sum"] = val
            if name == fam + "_count" and rest in series:
                series[rest]["count"] = val
        for rest, s in series.items():
            b = s["b"]
            if not b or b[-1][0] != math.inf:
                errors.append("%s%r: no +Inf bucket last" % (fam, rest))
                continue
            if any(b[k][0] >= b[k + 1][0] or b[k][1] > b[k + 1][1] for k in range(len(b) - 1)):
                errors.append("%s%r: buckets not cumulative" % (fam, rest))
            if s["count"] != b[-1][1] or s["sum"] is None:
                errors.append("%s%r: _count %r, +Inf %r, _sum %r" % (fam, rest, s["count"], b[-1][1], s["sum"]))
    return errors, samples


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    errors, samples = read(path)
    if cmd == "check":
        for e in errors[:40]:
            print(e)
        print("%d samples, %d errors" % (len(samples), len(errors)), file=sys.stderr)
        sys.exit(1 if errors or not samples else 0)
    name = sys.argv[3]
    want = dict(a.split("=", 1) for a in sys.argv[4:])
    vals = [v for n, l, v in samples if n == name and all(l.get(k) == x for k, x in want.items())]
    if cmd == "has":
        sys.exit(0 if vals else 1)
    if not vals:
        print("none")
    elif cmd == "max":
        print("%.6f" % max(vals))
    else:
        print("%.6f" % sum(vals))


if __name__ == "__main__":
    main()
