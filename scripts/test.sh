#!/usr/bin/env bash
# The test command: installs what it needs, builds, runs the Swift unit tests, the
# integration tests against real FUSE mounts, and the kernel-module test in a VM.
#   scripts/test.sh            everything
#   scripts/test.sh --quick    everything but the kernel-module VM test (it says so at the end)
# A test exits 0 to pass, 77 to skip, anything else to fail. On a machine that has what every
# test needs (root, /dev/fuse, network namespaces, tmpfs) a skip is a failure: a test that
# skips there hides a broken precondition; the same holds for XCTest cases that skip, except
# the opt-in benchmarks listed below. The last line is always "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
[ -d /opt/swift/usr/bin ] && export PATH=/opt/swift/usr/bin:$PATH
quick=0; [ "${1:-}" = "--quick" ] && quick=1
SWIFT_TEST_TIMEOUT=${SWIFT_TEST_TIMEOUT:-900}   # seconds for running the unit tests (built before)
SWIFT_LOG=$(mktemp /tmp/qtfs-swift-test.XXXXXX.log)
INTEGRATION_TIMEOUT=900 VM_TEST_TIMEOUT=1500

scripts/deps.sh || exit 1
modprobe fuse 2>/dev/null || true

# full_machine: true when this machine offers everything the tests use, so none may skip.
full_machine() {
    local dir ok=1
    [ "$(id -u)" = 0 ] && [ -c /dev/fuse ] || return 1
    unshare --net true 2>/dev/null || return 1
    dir=$(mktemp -d /tmp/qtfs-tmpfs-probe.XXXXXX)
    mount -t tmpfs -o size=1m qtfs-probe "$dir" 2>/dev/null && umount "$dir" || ok=0
    rmdir "$dir"
    [ "$ok" = 1 ]
}
skip_fails=0
if full_machine; then skip_fails=1; fi

passed=0; failed=0; failures=(); skipped=(); left_out=()
record() {  # record NAME EXIT_CODE
    case $2 in
        0) passed=$((passed + 1)); echo "=== PASS $1" ;;
        77) skipped+=("$1")
            if [ "$skip_fails" = 1 ]; then
                failed=$((failed + 1)); failures+=("$1 (skipped on a machine that can run it)")
                echo "=== FAIL $1 (skipped, but this machine has root, FUSE, namespaces and tmpfs)"
            else
                echo "=== SKIP $1"
            fi ;;
        124) failed=$((failed + 1)); failures+=("$1 (timed out)"); echo "=== FAIL $1 (timed out)" ;;
        *) failed=$((failed + 1)); failures+=("$1 (exit $2)"); echo "=== FAIL $1 (exit $2)" ;;
    esac
}

echo "=== build (release)"
swift build -c release 2>&1 | tail -3
[ "${PIPESTATUS[0]}" = 0 ] || { echo "failed: swift build -c release"; echo "0 passed, 1 failed"; exit 1; }
export QTFS_BIN=$PWD/.build/release

# record_swift_skips LOG: each XCTest case the log says was skipped, by name.
record_swift_skips() {
    local name
    for name in $(sed -n "s/^Test Case '\([^']*\)' skipped.*/\1/p" "$1" | sort -u); do
        record "swift test $name" 77
    done
}

echo "=== swift build --build-tests (debug)"
swift build --build-tests 2>&1 | tail -3
if [ "${PIPESTATUS[0]}" = 0 ]; then
    echo "=== swift test (timeout ${SWIFT_TEST_TIMEOUT}s; log $SWIFT_LOG)"
    timeout -k 30 "$SWIFT_TEST_TIMEOUT" swift test --skip-build 2>&1 | tee "$SWIFT_LOG" |
        grep -E "error|failed|Executed .* tests" | tail -20
    record "swift test" "${PIPESTATUS[0]}"
    record_swift_skips "$SWIFT_LOG"
else
    record "swift build --build-tests" 1
fi

for t in Tests/Integration/t*; do
    echo "=== $t"
    timeout -k 10 "$INTEGRATION_TIMEOUT" "$t"
    record "$t" $?
done
# The unix socket bridge, remote exec and qtfs-run once more with crypt none on both ends
# (plaintext frames; above they ran sealed, the default with a key).
for t in Tests/Integration/t76_unix_sockets.sh Tests/Integration/t90_rexec.sh Tests/Integration/t92_qtfs_run.sh; do
    echo "=== $t (crypt none)"
    QTFS_TEST_CRYPT=none timeout -k 10 "$INTEGRATION_TIMEOUT" "$t"
    record "$t (crypt none)" $?
done

if [ "$quick" = 1 ]; then
    left_out+=("kmod/test/run-vm-test.sh (the kernel-module VM test; run scripts/test.sh without --quick)")
elif [ -x kmod/test/run-vm-test.sh ]; then
    echo "=== kmod/test/run-vm-test.sh"
    QTFS_SERVER=$QTFS_BIN/qtfs-server timeout -k 10 "$VM_TEST_TIMEOUT" kmod/test/run-vm-test.sh
    record "kmod VM test" $?
else
    failed=$((failed + 1)); failures+=("kmod/test/run-vm-test.sh (missing or not executable)")
fi

[ ${#left_out[@]} -gt 0 ] && printf 'left out: %s\n' "${left_out[@]}"
echo "${#skipped[@]} skipped${skipped[*]:+: $(printf '%s, ' "${skipped[@]}" | sed 's/, $//')}"
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
