import QtfsProtocol

/// Host mounts' messages (docs/protocol.md, "Host mounts"): Tests/Vectors/hostmount/*.vec,
/// checked by the Swift codec only (the kernel module does not send them; qtfs-run does).
enum HostMountSamples {
    static let root = Caller(uid: 0, gid: 0, pid: 4242, groups: [])
    static let msBind: UInt64 = 4096, msRec: UInt64 = 16384, msRdonly: UInt64 = 1, msRemount: UInt64 = 32

    static let frames: [Sample] = [
        Sample("hostmount/overlay.request", .request, .hostMount, id: 1, HostMountRequest(
            caller: root, flags: 0, target: Array("/var/lib/containerd/rootfs/c1".utf8), source: Array("overlay".utf8),
            fstype: Array("overlay".utf8),
            data: Array("lowerdir=/var/lib/containerd/l2:/var/lib/containerd/l1,upperdir=/var/lib/containerd/u,workdir=/var/lib/containerd/w".utf8))),
        Sample("hostmount/rbind.request", .request, .hostMount, id: 2, HostMountRequest(
            caller: root, flags: msBind | msRec, target: Array("/var/lib/kubelet/pods/p1/volumes/v".utf8),
            source: Array("/var/lib/kubelet/data".utf8), fstype: [], data: [])),
        Sample("hostmount/remount-ro.request", .request, .hostMount, id: 3, HostMountRequest(
            caller: root, flags: msRemount | msBind | msRdonly, target: Array("/var/lib/kubelet/pods/p1/volumes/v".utf8),
            source: [], fstype: [], data: [])),
        Sample("hostmount/mount.response", .response, .hostMount, id: 1, EmptyReply()),
        Sample("hostmount/umount.request", .request, .hostUmount, id: 4, HostUmountRequest(
            caller: root, flags: 2, target: Array("/var/lib/containerd/rootfs/c1".utf8))),
        Sample("hostmount/umount.response", .response, .hostUmount, id: 4, EmptyReply()),
    ]
}
