#!/usr/bin/env python3
"""Structural rules for deploy/docker/Dockerfile that a linter does not know:
multi-stage on Debian 12, built with CMake in the build stage, a runtime
stage with no build tools that copies the four binaries from the build stage
and runs as a numeric non-root user.

usage: check-dockerfile.py Dockerfile ; exit 1 on any error."""
import re
import sys

BUILD_TOOLS = {"build-essential", "gcc", "g++", "cc", "clang", "cmake", "make",
               "pkg-config", "protobuf-c-compiler", "git", "curl", "wget"}
BINARIES = ("mgr-gateway", "mgr-account", "mgr-ca", "mgr-vault")


def instructions(text):
    """(keyword, argument) per instruction, continuation lines joined."""
    out, cur = [], ""
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        cur += " " + s[:-1] if s.endswith("\\") else " " + s
        if not s.endswith("\\"):
            kw, _, arg = cur.strip().partition(" ")
            out.append((kw.upper(), arg.strip()))
            cur = ""
    return out


def main(path):
    errs = []
    stages = []
    for kw, arg in instructions(open(path).read()):
        if kw == "FROM":
            m = re.fullmatch(r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", arg, re.I)
            stages.append({"image": m.group(1), "name": m.group(2), "ins": []})
        elif not stages:
            if kw != "ARG":
                errs.append("%s before FROM" % kw)
        else:
            stages[-1]["ins"].append((kw, arg))
    if len(stages) < 2:
        errs.append("needs a build stage and a runtime stage (multi-stage)")
        return report(errs)
    for st in stages:
        if not re.fullmatch(r"debian:(12|bookworm)(-slim)?(@sha256:[0-9a-f]+)?", st["image"]):
            errs.append("stage %s: base must be Debian 12 (debian:12 or bookworm), not %s"
                        % (st["name"], st["image"]))
    build, run = stages[0], stages[-1]
    runs = " ".join(a for k, a in build["ins"] if k == "RUN")
    if "cmake" not in runs or "--build" not in runs:
        errs.append("build stage must configure and build with CMake")
    for k, a in run["ins"]:
        if k == "RUN":
            words = set(re.findall(r"[A-Za-z0-9+._-]+", a))
            bad = sorted(words & BUILD_TOOLS)
            if "install" in words and bad:
                errs.append("runtime stage installs build tools: %s" % ", ".join(bad))
    copies = [a for k, a in run["ins"] if k == "COPY"]
    if not any(("--from=%s" % build["name"]) in c or "--from=0" in c for c in copies):
        errs.append("runtime stage must COPY the binaries --from the build stage")
    text = open(path).read()
    for b in BINARIES:
        if b not in text:
            errs.append("binary %s is not built into the image" % b)
    users = [a for k, a in run["ins"] if k == "USER"]
    if not users:
        errs.append("runtime stage has no USER (would run as root)")
    else:
        u = users[-1].split(":")[0]
        if not u.isdigit() or int(u) == 0:
            errs.append("final USER must be a numeric non-root uid (runAsNonRoot), not %r" % users[-1])
    if not [a for k, a in run["ins"] if k in ("CMD", "ENTRYPOINT")]:
        errs.append("runtime stage has no CMD/ENTRYPOINT")
    return report(errs)


def report(errs):
    for e in errs:
        print("ERROR " + e, file=sys.stderr)
    print("Dockerfile structure: %d errors" % len(errs))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
