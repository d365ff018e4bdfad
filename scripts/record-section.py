#!/usr/bin/env python3
"""record-section.py DOC: puts the Markdown section read from stdin into DOC, replacing the
section with the same "## " heading, or appending it at the end. The benchmark commands
that measure one thing on their own (bench-rexec.sh, bench-offload.sh) record with it;
scripts/bench.sh keeps the sections after "## Kernel module" when it rewrites DOC."""
import re
import sys

path = sys.argv[1]
section = sys.stdin.read().rstrip() + "\n"
heading = section.splitlines()[0]
if not heading.startswith("## "):
    sys.exit(f"record-section: the section must start with a '## ' heading, not {heading!r}")
text = open(path).read()
pattern = re.compile(r"^" + re.escape(heading) + r"\n.*?(?=^## |\Z)", re.S | re.M)
if pattern.search(text):
    text = pattern.sub(lambda _: section + "\n", text).rstrip() + "\n"
else:
    text = text.rstrip() + "\n\n" + section
open(path, "w").write(text)
