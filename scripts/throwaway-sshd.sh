# Sourced by the benchmarks: a throwaway sshd on loopback with temporary host and client
# keys and its own configuration; the system's sshd and its configuration are untouched.
# throwaway_sshd_config DIR PORT [EXTRA CONFIG LINES...]: keys and DIR/sshd_config; the
# client key is DIR/client.
throwaway_sshd_config() {
    local dir=$1 port=$2
    shift 2
    mkdir -p "$dir" /run/sshd   # /run/sshd: the privilege separation directory sshd insists on
    ssh-keygen -q -t ed25519 -N '' -f "$dir/host"
    ssh-keygen -q -t ed25519 -N '' -f "$dir/client"
    cp "$dir/client.pub" "$dir/authorized_keys"
    {
        printf '%s\n' "Port $port" "ListenAddress 127.0.0.1" "HostKey $dir/host" "PidFile $dir/sshd.pid" \
            "AuthorizedKeysFile $dir/authorized_keys" "PermitRootLogin prohibit-password" \
            "PasswordAuthentication no" "KbdInteractiveAuthentication no" "UsePAM no" "StrictModes no"
        for line in "$@"; do printf '%s\n' "$line"; done
    } >"$dir/sshd_config"
}
