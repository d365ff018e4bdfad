#!/usr/bin/env bash
# The full load run (docs/reliability.md): 4 qtfs-fuse mounts x conns=16 against one
# qtfs-server, 64 workers x 10,000 checksummed operations. The run itself is the test
# command's load test, Tests/Integration/t84_load.sh, with bigger numbers; NMOUNTS, CONNS,
# WORKERS and OPS override them.
NMOUNTS=${NMOUNTS:-4}; CONNS=${CONNS:-16}; OPS=${OPS:-10000}
export NMOUNTS CONNS OPS WORKERS=${WORKERS:-$((NMOUNTS * CONNS))}
exec "$(dirname "$0")/../Tests/Integration/t84_load.sh"
