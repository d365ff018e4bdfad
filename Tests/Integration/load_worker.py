#!/usr/bin/env python3
"""One load worker: OPS mixed file operations in its own directory on a qtfs mount, every
read checked against what this worker wrote, then every file checked again through the
mount and on the host. Prints one JSON line with counts, errors and timings.

usage: load_worker.py MOUNT_DIR HOST_DIR OPS SEED"""
import hashlib, json, os, random, sys, time

mount_dir, host_dir, total, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
files = {}            # name -> expected content
errors, counts = [], {}
serial = 0
MAX_FILES, MAX_SIZE = 16, 64 * 1024
# Large files: written with one write of 64 KiB or more (the client's write-behind) and,
# being over 128 KiB, read back with READs the server splices when the export is a tmpfs.
LARGE_MIN, LARGE_MAX = 160 * 1024, 512 * 1024

def path(name): return os.path.join(mount_dir, name)

def new_name():
    global serial
    serial += 1
    return f"f{serial}"

def check(ok, what):
    if not ok: errors.append(what)

def op_create():
    if len(files) >= MAX_FILES: return op_unlink()
    name, data = new_name(), rng.randbytes(rng.randrange(0, MAX_SIZE))
    with open(path(name), "wb") as f: f.write(data)
    files[name] = data

def op_create_large():
    if len(files) >= MAX_FILES: return op_unlink()
    name, data = new_name(), rng.randbytes(rng.randrange(LARGE_MIN, LARGE_MAX))
    fd = os.open(path(name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try: check(os.write(fd, data) == len(data), f"write {name}: short")
    finally: os.close(fd)
    files[name] = data

def op_read():
    if not files: return op_create()
    name = rng.choice(list(files))
    with open(path(name), "rb") as f: got = f.read()
    check(got == files[name], f"read {name}: {len(got)} bytes, sha differs from the {len(files[name])} written")

def op_stat():
    if not files: return op_create()
    name = rng.choice(list(files))
    st = os.stat(path(name))
    check(st.st_size == len(files[name]), f"stat {name}: size {st.st_size}, wrote {len(files[name])}")

def op_list():
    got = sorted(e for e in os.listdir(mount_dir))
    check(got == sorted(files), f"listdir: {len(got)} names, expected {len(files)}")

def op_overwrite():
    if not files: return op_create()
    name = rng.choice(list(files))
    old = files[name]
    off = rng.randrange(0, len(old) + 1)
    patch = rng.randbytes(rng.randrange(1, 8192))
    fd = os.open(path(name), os.O_WRONLY)
    try: check(os.pwrite(fd, patch, off) == len(patch), f"pwrite {name}: short")
    finally: os.close(fd)
    files[name] = old[:off] + patch + old[off + len(patch):] if off <= len(old) else old

def op_append():
    if not files: return op_create()
    name = rng.choice(list(files))
    more = rng.randbytes(rng.randrange(1, 4096))
    with open(path(name), "ab") as f: f.write(more)
    files[name] += more

def op_truncate():
    if not files: return op_create()
    name = rng.choice(list(files))
    n = rng.randrange(0, len(files[name]) + 1)
    os.truncate(path(name), n)
    files[name] = files[name][:n]

def op_rename():
    if not files: return op_create()
    name, to = rng.choice(list(files)), new_name()
    os.rename(path(name), path(to))
    files[to] = files.pop(name)

def op_unlink():
    if not files: return op_create()
    name = rng.choice(list(files))
    os.unlink(path(name))
    del files[name]

def op_mkdir():
    d = path("dir-" + new_name())
    os.mkdir(d)
    check(os.path.isdir(d), "mkdir: not a directory afterwards")
    os.rmdir(d)

MIX = [(op_create, 12), (op_create_large, 3), (op_read, 25), (op_stat, 15), (op_list, 8), (op_overwrite, 10),
       (op_append, 5), (op_truncate, 4), (op_rename, 8), (op_unlink, 6), (op_mkdir, 4)]
ops, weights = zip(*MIX)
os.makedirs(mount_dir, exist_ok=True)
start = time.monotonic()
for i in range(total):
    op = rng.choices(ops, weights)[0]
    try:
        op()
    except OSError as e:
        errors.append(f"{op.__name__} #{i}: {e}")
    counts[op.__name__] = counts.get(op.__name__, 0) + 1
    if len(errors) > 20: break
elapsed = time.monotonic() - start

# Final check: every file through the mount and on the host, by checksum.
for name, data in files.items():
    want = hashlib.sha256(data).hexdigest()
    for where in (mount_dir, host_dir):
        try:
            with open(os.path.join(where, name), "rb") as f: got = hashlib.sha256(f.read()).hexdigest()
        except OSError as e:
            got = str(e)
        check(got == want, f"final {where}/{name}: checksum differs")
print(json.dumps({"seed": seed, "ops": sum(counts.values()), "counts": counts, "files": len(files),
                  "seconds": round(elapsed, 2), "errors": errors}))
