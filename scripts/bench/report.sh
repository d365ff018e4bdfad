# Sourced by scripts/bench.sh: the tables and the target checks made from RESULTS (one line
# per target, row and round: `target row ops µs/op MB/s [cpu switches]`, or `target row FAIL`
# / `target row NA`), for any TARGETS and rows (workload_rows, in ROWS_FILE: id|unit|text).
# Seq rows (unit MB/s) compare MB/s, higher is better; all others time per op.

# labels: "id=label;..." for awk.
target_labels() { local t; for t in $TARGETS; do printf '%s=%s;' "$t" "${TARGET_LABEL[$t]}"; done; }

# The awk helpers every table shares: the rows file is read first (ARGIND 1).
AWK_COMMON='
function rows_and_targets(   n, i, kv, e) {
    nt = split(targets, T, " ")
    n = split(labels, kv, ";")
    for (i = 1; i <= n; i++) if ((e = index(kv[i], "=")) > 0) label[substr(kv[i], 1, e - 1)] = substr(kv[i], e + 1)
}
FNR == NR { split($0, f, "|"); nw++; W[nw] = f[1]; unit[f[1]] = f[2]; desc[f[1]] = f[3]; next }
function seq(w) { return unit[w] == "MB/s" }
function figure(w) { return seq(w) ? $5 : $4 }   # of a RESULTS line
'

# medians: one line per target and row, the median over the rounds that did not fail
# ("FAIL" when all failed, "NA" when the target did not run); same fields as RESULTS.
medians() {
    awk -v targets="$TARGETS" "$AWK_COMMON"'
    !(($1, $2) in n) { n[$1, $2] = 0; keys[++k] = $1 SUBSEP $2; state[$1, $2] = $3 }
    $3 == "FAIL" || $3 == "NA" { next }
    {
        v = figure($2)
        for (i = ++n[$1, $2]; i > 1 && sorted[$1, $2, i - 1] + 0 > v + 0; i--) sorted[$1, $2, i] = sorted[$1, $2, i - 1]
        sorted[$1, $2, i] = v; raw[$1, $2, v] = $0
    }
    END {
        for (j = 1; j <= k; j++) {
            split(keys[j], tw, SUBSEP); c = n[tw[1], tw[2]]
            if (c == 0) print tw[1], tw[2], state[tw[1], tw[2]]
            else print raw[tw[1], tw[2], sorted[tw[1], tw[2], int((c + 1) / 2)]]
        }
    }' FS='|' "$ROWS_FILE" FS=' ' "$RESULTS"
}

# report_awk PROGRAM [input]: runs PROGRAM (after AWK_COMMON, with val[t, w] from the medians:
# the figure, or FAIL / NA) over the rows and the medians.
report_awk() {
    awk -v targets="$TARGETS" -v labels="$(target_labels)" -v rtt="$(rtt_floor)" "$AWK_COMMON"'
    BEGIN { rows_and_targets() }
    { val[$1, $2] = ($3 == "FAIL" || $3 == "NA") ? $3 : figure($2) }
    NF >= 7 { cpu[$1, $2] = $6; cs[$1, $2] = $7 }
    NF >= 8 { reqs[$1, $2] = $8 }
    function ok(t, w) { return ((t, w) in val) && val[t, w] != "FAIL" && val[t, w] != "NA" && val[t, w] > 0 }
    function cell(t, w,   v) { if (!((t, w) in val)) return "n/a"; v = val[t, w]; if (v == "NA") return "n/a"
        if (v == "FAIL") return v; return seq(w) ? sprintf("%.0f", v) : sprintf("%.1f", v) }
    # speedup of a over b (> 1: a is faster), "n/a" when either is missing
    function speedup(a, b, w) { if (!ok(a, w) || !ok(b, w)) return "n/a"
        return sprintf("%.2f×", seq(w) ? val[a, w] / val[b, w] : val[b, w] / val[a, w]) }
    '"$1" FS='|' "$ROWS_FILE" FS=' ' "${2:-/dev/stdin}"
}

table() {
    medians | report_awk '
    END {
        head = "| workload | unit"; rule = "|---|---"
        for (j = 1; j <= nt; j++) { head = head " | " label[T[j]]; rule = rule "|---:" }
        print head " | qtfs speedup vs sshfs | qtfs speedup vs sshfs direct | qtfs strict time vs pll strict |"
        print rule "|---:|---:|---:|"
        for (i = 1; i <= nw; i++) {
            w = W[i]; line = "| " desc[w] " | " unit[w]
            for (j = 1; j <= nt; j++) line = line " | " cell(T[j], w)
            # how much faster pll strict is = the time of qtfs strict over that of pll strict
            print line " | " speedup("qtfs", "sshfs", w) " | " speedup("qtfs", "sshfs-direct", w) " | " speedup("pll-strict", "qtfs-strict", w) " |"
        }
    }'
}

# cost: CPU and context switches per op of the processes serving each FUSE mount.
cost() {
    medians | report_awk '
    END {
        head = "| workload"; rule = "|---"
        for (j = 1; j <= nt; j++) if (T[j] != "local") { head = head " | " label[T[j]] " CPU µs/op"; rule = rule "|---:" }
        for (j = 1; j <= nt; j++) if (T[j] != "local") { head = head " | " label[T[j]] " switches/op"; rule = rule "|---:" }
        print head " |"; print rule "|"
        for (i = 1; i <= nw; i++) {
            line = "| " W[i]
            for (j = 1; j <= nt; j++) if (T[j] != "local") line = line " | " (((T[j], W[i]) in cpu) ? cpu[T[j], W[i]] : "n/a")
            for (j = 1; j <= nt; j++) if (T[j] != "local") line = line " | " (((T[j], W[i]) in cs) ? cs[T[j], W[i]] : "n/a")
            print line " |"
        }
    }'
}

# requests: the server requests each op of a qtfs target waited for (server_requests).
requests() {
    medians | report_awk '
    END {
        head = "| workload"; rule = "|---"
        for (j = 1; j <= nt; j++) if (T[j] ~ /^qtfs/) { head = head " | " label[T[j]]; rule = rule "|---:" }
        print head " |"; print rule "|"
        for (i = 1; i <= nw; i++) {
            line = "| " W[i]
            for (j = 1; j <= nt; j++) if (T[j] ~ /^qtfs/) line = line " | " (((T[j], W[i]) in reqs) ? reqs[T[j], W[i]] : "n/a")
            print line " |"
        }
    }'
}

# spread: max/min of each target's figure over the rounds (1.00 = identical rounds).
spread() {
    report_awk '
    $3 != "FAIL" && $3 != "NA" {
        v = figure($2); k = $1 SUBSEP $2
        if (!(k in lo) || v + 0 < lo[k]) lo[k] = v + 0
        if (!(k in hi) || v + 0 > hi[k]) hi[k] = v + 0
    }
    END {
        head = "| workload"; rule = "|---"
        for (j = 1; j <= nt; j++) { head = head " | " label[T[j]]; rule = rule "|---:" }
        print head " |"; print rule "|"
        for (i = 1; i <= nw; i++) {
            line = "| " W[i]
            for (j = 1; j <= nt; j++) { k = T[j] SUBSEP W[i]; line = line " | " ((k in lo) && lo[k] > 0 ? sprintf("%.2f", hi[k] / lo[k]) : "n/a") }
            print line " |"
        }
    }' "$RESULTS"
}

# not_measured: one line per target that did not run in this run, and why.
not_measured() {
    local t
    for t in $TARGETS; do
        [ -n "${TARGET_NA[$t]:-}" ] && echo "- ${TARGET_LABEL[$t]}: ${TARGET_NA[$t]}"
    done
    return 0
}

# The smaller loopback round trip of the probes before and after the workloads (µs).
rtt_floor() { echo "${RTT_BEFORE:-0 0} ${RTT_AFTER:-0 0}" | awk '{ print ($1 < $3) ? $1 : $3 }'; }

# targets_check: every target of issues 3, 17 and 18 the run can judge, met or NOT met, with
# the figures. Ratios are of medians; "not measured" when a column is missing.
targets_check() {
    medians | report_awk '
    function verdict(good, known) { return known ? (good ? "met" : "NOT met") : "not measured" }
    # line TEXT KNOWN OK DETAIL
    function line(text, known, good, detail) { printf "- %s: %s%s\n", text, verdict(good, known), known ? " (" detail ")" : "" }
    # faster W A B FACTOR TEXT: A at least FACTOR times as fast as B on W
    function faster(w, a, b, f, text,   k, r) {
        k = ok(a, w) && ok(b, w); r = k ? (seq(w) ? val[a, w] / val[b, w] : val[b, w] / val[a, w]) : 0
        line(text, k, r >= f, sprintf("%.2f×: %s %s, %s %s", r, label[a], cell(a, w), label[b], cell(b, w)))
    }
    # slower W A B FACTOR ADD TEXT: A time per op at most FACTOR × (B + ADD µs)
    function slower(w, a, b, f, add, text,   k, lim) {
        k = ok(a, w) && ok(b, w); lim = k ? f * (val[b, w] + add) : 0
        line(text, k, val[a, w] <= lim, sprintf("%s %s µs, bound %.1f µs", label[a], cell(a, w), lim))
    }
    # strict W: the one-round-trip bound, then the bound with the round trips qtfs strict made
    function strict(w,   k, lim, known) {
        k = ok("qtfs-strict", w) && ok("pll-strict", w); lim = k ? 1.2 * (val["pll-strict", w] + rtt) : 0
        known = k && (("qtfs-strict", w) in reqs)
        printf "- %s: %s", w, verdict(val["qtfs-strict", w] <= lim, k)
        if (k) printf " (qtfs strict %s µs, bound %.1f µs)", cell("qtfs-strict", w), lim
        if (known) { lim = 1.2 * (val["pll-strict", w] + reqs["qtfs-strict", w] * rtt)
            printf "; per request: %s (%s requests per op, bound %.1f µs)", verdict(val["qtfs-strict", w] <= lim, 1), reqs["qtfs-strict", w], lim }
        print ""
    }
    END {
        print "Kept from before (defaults, leaf mounts):"
        n = split("stat create unlink readdir ps cgroup", M, " ")
        for (i = 1; i <= n; i++) faster(M[i], "qtfs", "sshfs", 3, M[i] " ≥ 3× faster than sshfs")
        n = split("ps cgroup", M, " ")
        for (i = 1; i <= n; i++) faster(M[i], "qtfs", "sshfs", 8, M[i] " ≥ 8× faster than sshfs (issue 3)")
        line("ps scan of 1,000 processes under 150 ms", ok("qtfs", "ps"), val["qtfs", "ps"] < 150, sprintf("%.0f ms per 1,000 processes", val["qtfs", "ps"]))
        slower("read4k", "qtfs", "passthrough_ll", 1.6, 0, "open+read 4 KiB+close within 1.6× of passthrough_ll")
        line("seq read ≥ 2000 MB/s", ok("qtfs", "seqread"), val["qtfs", "seqread"] >= 2000, cell("qtfs", "seqread") " MB/s; passthrough_ll " cell("passthrough_ll", "seqread"))
        line("seq write ≥ 1000 MB/s", ok("qtfs", "seqwrite"), val["qtfs", "seqwrite"] >= 1000, cell("qtfs", "seqwrite") " MB/s; passthrough_ll " cell("passthrough_ll", "seqwrite"))
        print ""; print "Issue 17, the guide'"'"'s mounts with default options:"
        n = split("cgroup-sys cgroup-sys-repeat ps ps-repeat", M, " ")
        for (i = 1; i <= n; i++) {
            faster(M[i], "qtfs", "sshfs", 3, M[i] " ≥ 3× faster than sshfs (direct_io)")
            faster(M[i], "qtfs", "pll-strict", 1, M[i] " at least as fast as passthrough_ll strict")
        }
        slower("deepstat", "qtfs", "pll-strict", 1.2, 0, "deep pseudo path stat ≤ 1.2× passthrough_ll strict")
        print ""; print sprintf("Issue 17, strict mode, metadata rows ≤ 1.2 × (pll strict + one loopback round trip of %.1f µs);", rtt)
        print "per request: ≤ 1.2 × (pll strict + k round trips), k the server requests per op qtfs strict waited for (measured, Requests per op):"
        n = split("stat create unlink readdir lookup deepstat", M, " ")
        for (i = 1; i <= n; i++) strict(M[i])
        print ""; print "Issue 17, FUSE over io_uring (qtfs io_uring against qtfs on /dev/fuse, both with default options):"
        n = split("stat read4k create unlink", M, " ")
        for (i = 1; i <= n; i++) faster(M[i], "qtfs-uring", "qtfs", 1.3, M[i] " ≥ 1.3× faster through io_uring")
        n = split("cgroup-sys cgroup-sys-repeat ps ps-repeat", M, " ")
        for (i = 1; i <= n; i++) faster(M[i], "qtfs-uring", "pll-strict", 1, M[i] " through io_uring at least as fast as passthrough_ll strict")
        print ""; print "The cost of the directory prefetch (bound set with this benchmark):"
        slower("lookup", "qtfs", "qtfs-strict", 2, 0, "a few lookups in a huge directory on a fresh mount: qtfs defaults ≤ 2× qtfs strict per lookup")
        print ""; print "Issue 18, sealed frames (aead, the default) against crypt=none:"
        n = split("seqread seqwrite", M, " ")
        for (i = 1; i <= n; i++) faster(M[i], "qtfs", "qtfs-none", 0.6, M[i] " ≥ 60 % of crypt=none throughput")
        n = split("stat create unlink readdir deepstat", M, " ")
        for (i = 1; i <= n; i++) slower(M[i], "qtfs", "qtfs-none", 1.1, 0, M[i] " within +10 % of crypt=none")
    }'
}

# floors: what create and unlink cost at least here: passthrough_ll's time (the FUSE part,
# no network) plus the round trips qtfs must wait for, against what the 3× sshfs target allows.
floors() {
    medians | report_awk '
    END {
        split("unlink create", M, " "); trips["unlink"] = 1; trips["create"] = 2
        why["unlink"] = "UNLINK (its LOOKUP is answered from the prefetched directory)"
        why["create"] = "CREATE, then the 4 KiB WRITE, whose result close() must report"
        for (i = 1; i <= 2; i++) {
            w = M[i]
            if (!ok("passthrough_ll", w) || !ok("sshfs", w) || !ok("qtfs", w)) continue
            printf "- %s: passthrough_ll %.1f µs + %d round trip(s) of %.1f µs (%s) = at least %.1f µs; qtfs %.1f µs; 3× sshfs allows %.1f µs\n",
                w, val["passthrough_ll", w], trips[w], rtt, why[w], val["passthrough_ll", w] + trips[w] * rtt, val["qtfs", w], val["sshfs", w] / 3
        }
    }'
}
