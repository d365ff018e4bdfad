#!/usr/bin/env bash
# The fstab lines of docs/client.md ("Mounting at boot") make the mount units a DPU needs:
# systemd's own fstab generator, run on the block taken from the docs, gives each qtfs line a
# mount unit of type qtfs pulled in by remote-fs.target (after the network, not by
# local-fs.target), and the host's /proc waits for the DPU's own procfs.
source "$(dirname "$0")/lib.sh"
GEN=/lib/systemd/system-generators/systemd-fstab-generator
[ -x "$GEN" ] || fail "no $GEN (package systemd, installed by scripts/deps.sh)"
FSTAB=$WORK/fstab
awk '/^```fstab$/ {on = 1; next} /^```$/ {on = 0} on' "$REPO/docs/client.md" >"$FSTAB"
lines=$(grep -c ' qtfs ' "$FSTAB") || fail "no qtfs line in the docs' fstab block"
mkdir -p "$WORK"/units/{normal,early,late}
SYSTEMD_FSTAB=$FSTAB "$GEN" "$WORK/units/normal" "$WORK/units/early" "$WORK/units/late" 2>"$WORK/gen.log" ||
    fail "the generator refused the docs' fstab: $(cat "$WORK/gen.log")"
[ ! -s "$WORK/gen.log" ] || fail "the generator warned: $(cat "$WORK/gen.log")"
U=$WORK/units/normal
n=0
while read -r what where type opts _; do
    [ "$type" = qtfs ] || continue
    unit=$(systemd-escape --path --suffix=mount "$where")
    [ -f "$U/$unit" ] || fail "no $unit for $where"
    grep -qx 'Type=qtfs' "$U/$unit" && grep -qx "What=$what" "$U/$unit" || fail "$unit: $(cat "$U/$unit")"
    [ -L "$U/remote-fs.target.requires/$unit" ] || fail "$unit is not pulled in by remote-fs.target (after the network)"
    [ ! -e "$U/local-fs.target.requires/$unit" ] || fail "$unit is a local mount: it would be tried before the network"
    n=$((n + 1))
done <"$FSTAB"
[ "$n" = "$lines" ] || fail "checked $n of $lines qtfs lines"
grep -qx 'RequiresMountsFor=/another_rootfs/local_proc' "$U/another_rootfs-proc.mount" ||
    fail "the host's /proc does not wait for the DPU's procfs: $(cat "$U/another_rootfs-proc.mount")"
log "PASS: $n qtfs mount units after the network"
