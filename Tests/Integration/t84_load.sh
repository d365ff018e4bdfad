#!/usr/bin/env bash
# Load (small): 2 mounts x conns=4 against one server, 16 workers x 1,000 mixed operations,
# every read and every final file checked by checksum; no error, no server fd leak.
# The full run (4 x 16 = 64 connections x 10,000 operations) is `scripts/load.sh`;
# figures in docs/reliability.md.
NMOUNTS=2 CONNS=4 WORKERS=16 OPS=1000 exec "$(dirname "$0")/../../scripts/load.sh"
