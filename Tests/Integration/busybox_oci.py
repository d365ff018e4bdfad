#!/usr/bin/env python3
"""Writes an OCI image archive (what `ctr image import` reads) of a one-layer busybox image,
so that tests can run images without a registry or network.

    busybox_oci.py [--docker-archive] OUT.tar NAME:TAG [BUSYBOX]

--docker-archive writes docker's own archive format instead (manifest.json, the layer tar
and the config), which `docker load` of docker 20.10 reads; it does not read OCI archives.

The layer holds /bin/busybox (Debian's busybox-static by default) with links for a few
applets, the directories a container expects, and a file /etc/image-name with NAME:TAG.
"""
import hashlib
import io
import json
import sys
import tarfile
import time

APPLETS = ["sh", "echo", "cat", "sleep", "ls", "ps", "id", "head", "hostname", "mount", "true"]
DIRS = ["bin", "dev", "etc", "proc", "sys", "tmp", "root"]


def add_file(tar, name, data, mode=0o644):
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, int(time.time())
    tar.addfile(info, io.BytesIO(data))


def layer_bytes(busybox, ref):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in DIRS:
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755
            tar.addfile(info)
        with open(busybox, "rb") as f:
            add_file(tar, "bin/busybox", f.read(), 0o755)
        for applet in APPLETS:
            info = tarfile.TarInfo("bin/" + applet)
            info.type, info.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(info)
        add_file(tar, "etc/image-name", (ref + "\n").encode())
    return out.getvalue()


def blob(tar, data, media_type):
    digest = hashlib.sha256(data).hexdigest()
    add_file(tar, "blobs/sha256/" + digest, data)
    return {"mediaType": media_type, "digest": "sha256:" + digest, "size": len(data)}


def json_bytes(value):
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def write_docker_archive(out, ref, layer, config):
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    layer_name = hashlib.sha256(layer).hexdigest() + "/layer.tar"
    manifest = [{"Config": config_name, "RepoTags": [ref], "Layers": [layer_name]}]
    with tarfile.open(out, "w") as tar:
        add_file(tar, config_name, config)
        add_file(tar, layer_name, layer)
        add_file(tar, "manifest.json", json_bytes(manifest))


def main():
    args = sys.argv[1:]
    docker_archive = args[:1] == ["--docker-archive"]
    if docker_archive:
        args = args[1:]
    if len(args) not in (2, 3):
        sys.exit(__doc__)
    out, ref = args[0], args[1]
    busybox = args[2] if len(args) == 3 else "/bin/busybox"
    layer = layer_bytes(busybox, ref)
    config = {
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
    }
    if docker_archive:
        write_docker_archive(out, ref, layer, json_bytes(config))
        return
    with tarfile.open(out, "w") as tar:
        layer_desc = blob(tar, layer, "application/vnd.oci.image.layer.v1.tar")
        config_desc = blob(tar, json_bytes(config), "application/vnd.oci.image.config.v1+json")
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": config_desc, "layers": [layer_desc]}
        manifest_desc = blob(tar, json_bytes(manifest), "application/vnd.oci.image.manifest.v1+json")
        manifest_desc["annotations"] = {"org.opencontainers.image.ref.name": ref.split(":")[-1],
                                        "io.containerd.image.name": ref}
        add_file(tar, "oci-layout", json_bytes({"imageLayoutVersion": "1.0.0"}))
        add_file(tar, "index.json", json_bytes({"schemaVersion": 2, "manifests": [manifest_desc]}))


if __name__ == "__main__":
    main()
