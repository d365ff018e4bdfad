#!/usr/bin/env bash
# The test command: installs what it needs, builds, runs the Swift unit tests, the
# integration tests against real FUSE mounts, and the kernel-module test in a VM.
#   scripts/test.sh            everything
#   scripts/test.sh --quick    skip the kernel-module VM test
set -uo pipefail
cd "$(dirname "$0")/.."
[ -d /opt/swift/usr/bin ] && export PATH=/opt/swift/usr/bin:$PATH
quick=0; [ "${1:-}" = "--quick" ] && quick=1

scripts/deps.sh || exit 1
modprobe fuse 2>/dev/null || true

passed=0; failed=0; failures=()
record() {  # record NAME EXIT_CODE
    case $2 in
        0) passed=$((passed + 1)); echo "=== PASS $1" ;;
        77) echo "=== SKIP $1" ;;
        *) failed=$((failed + 1)); failures+=("$1"); echo "=== FAIL $1 (exit $2)" ;;
    esac
}

echo "=== build (release)"
swift build -c release 2>&1 | tail -3
[ "${PIPESTATUS[0]}" = 0 ] || { echo "0 passed, 1 failed"; exit 1; }
export QTFS_BIN=$PWD/.build/release

echo "=== swift test"
swift test 2>&1 | tee /tmp/qtfs-swift-test.log | grep -E "error|failed|Executed .* tests" | tail -20
record "swift test" "${PIPESTATUS[0]}"

for t in Tests/Integration/t*; do
    echo "=== $t"
    timeout 900 "$t"
    record "$t" $?
done

if [ "$quick" = 0 ] && [ -x kmod/test/run-vm-test.sh ]; then
    echo "=== kmod/test/run-vm-test.sh"
    QTFS_SERVER=$QTFS_BIN/qtfs-server timeout 1500 kmod/test/run-vm-test.sh
    record "kmod VM test" $?
fi

[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
