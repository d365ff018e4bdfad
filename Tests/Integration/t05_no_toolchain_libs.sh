#!/usr/bin/env bash
# Every installed binary runs without the Swift toolchain (issue 19): the Swift runtime is
# linked in, so ldd names only libraries of installed Debian packages, nothing under the
# toolchain and nothing "not found"; and each --help runs from a copy of the binary (no
# $ORIGIN neighbours), with an empty LD_LIBRARY_PATH and the toolchain hidden under an
# empty tmpfs in a private mount namespace.
source "$(dirname "$0")/lib.sh"
SWIFT=$(command -v swift || true)
TOOLCHAIN=${SWIFT:+$(dirname "$(dirname "$(dirname "$(readlink -f "$SWIFT")")")")}
TOOLCHAIN=${TOOLCHAIN:-/opt/swift}
BINARIES=(qtfs-server qtfs-fuse qtinfo qtfs-run qtfs-rexec)

# debian_owned LIB: true when an installed package ships LIB (/lib and /usr/lib are one
# directory on Debian 12, but dpkg knows each file under the path its package uses).
debian_owned() {
    dpkg -S "$1" >/dev/null 2>&1 || dpkg -S "/usr$1" >/dev/null 2>&1 || dpkg -S "${1#/usr}" >/dev/null 2>&1
}

# check_libraries NAME: fails naming NAME and the library ldd resolves wrongly.
check_libraries() {
    local name=$1 out lib path
    out=$(ldd "$BIN/$name" 2>&1) || { grep -q "not a dynamic executable" <<<"$out" && return 0; fail "ldd $name: $out"; }
    while read -r lib _ path _; do
        case $path in
            "not") fail "$name needs $lib, which is not found (ldd: $lib => not found)" ;;
            "$TOOLCHAIN"/*) fail "$name loads $lib from the Swift toolchain ($path); link the Swift runtime in (-static-stdlib)" ;;
            /*) debian_owned "$path" || fail "$name loads $lib from $path, which no installed Debian package ships" ;;
        esac
    done < <(grep "=>" <<<"$out")
}

mkdir -p "$WORK/alone"
for b in "${BINARIES[@]}"; do
    [ -x "$BIN/$b" ] || fail "$BIN/$b is missing; build with swift build -c release"
    check_libraries "$b"
    cp "$BIN/$b" "$WORK/alone/$b"
done

log "each --help with the toolchain ($TOOLCHAIN) hidden"
[ -d "$TOOLCHAIN" ] || fail "no toolchain at $TOOLCHAIN to hide"
for b in "${BINARIES[@]}"; do
    unshare --mount sh -c 'mount -t tmpfs -o size=1m qtfs-no-toolchain "$1" && shift && exec "$@"' \
        sh "$TOOLCHAIN" env LD_LIBRARY_PATH= "$WORK/alone/$b" --help >"$WORK/$b.help" 2>&1 ||
        fail "$b --help fails without the toolchain: $(head -3 "$WORK/$b.help")"
    has -i "usage" <"$WORK/$b.help" || fail "$b --help printed no usage without the toolchain: $(head -3 "$WORK/$b.help")"
done
