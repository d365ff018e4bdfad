#!/bin/bash
# Times the codec's hot paths (scripts/codec-bench/main.swift) for this tree and for a base
# revision: QtfsProtocol built as its own module (-O -wmo, as SwiftPM's release build), the
# benchmark linked against it, runs alternated, the best of each line kept. CPU time per
# iteration, so that other load on the machine counts as little as it can.
# Usage: scripts/codec-bench/run.sh [BASE_REV (default HEAD~1)] [RUNS (default 3)]
set -euo pipefail
export PATH=/opt/swift/usr/bin:$PATH
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../.." && pwd)
base=${1:-HEAD~1}; runs=${2:-3}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

build() {   # build SRC_DIR OUT_DIR
    mkdir -p "$2"
    swiftc -O -wmo -parse-as-library -swift-version 5 -module-name QtfsProtocol -emit-module \
        -emit-module-path "$2/QtfsProtocol.swiftmodule" -c -o "$2/QtfsProtocol.o" "$1"/*.swift
    swiftc -O -swift-version 5 -I "$2" "$here/main.swift" "$2/QtfsProtocol.o" -o "$2/bench"
}

mkdir -p "$work/base-src"
git -C "$root" archive "$base" Sources/QtfsProtocol | tar -x -C "$work/base-src" --strip-components=2
build "$work/base-src" "$work/base"
build "$root/Sources/QtfsProtocol" "$work/new"
for _ in $(seq "$runs"); do
    "$work/base/bench" >> "$work/base.txt"
    "$work/new/bench" >> "$work/new.txt"
done
python3 - "$work/base.txt" "$work/new.txt" "$base" <<'PY'
import re, sys
def best(path):
    d = {}
    for line in open(path):
        m = re.match(r'(.*?)\s+([\d.]+) ns$', line.rstrip())
        if m: d[m.group(1)] = min(d.get(m.group(1), float("inf")), float(m.group(2)))
    return d
b, n = best(sys.argv[1]), best(sys.argv[2])
print(f"{'ns per call':36} {sys.argv[3]:>9} {'this tree':>9}")
for k in b: print(f"{k:36} {b[k]:9.1f} {n[k]:9.1f} {100 * (n[k] - b[k]) / b[k]:+5.0f}%")
PY
