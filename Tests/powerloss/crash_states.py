#!/usr/bin/env python3
"""Power-loss crash states, in the spirit of ALICE (OSDI 2014) and SQLite's crash tests.

A killed process keeps what it wrote in the page cache; a power cut does not. This records the
file-system operations one mcp-gen command makes (strace -y), then builds crash states that a
power cut after each operation could leave: everything not yet made durable by an fsync of the
file, of its directory, or a syncfs, may be lost. For every crash point it checks:
  * all operations kept;
  * only durable operations kept (every volatile name change and all volatile data lost);
  * every name change kept, volatile data lost (the zero-length-file case);
  * each volatile name change dropped alone, volatile data lost;
and on each state: `current` is the old or the new release and verifies, no store entry is
partial (audit: no error), the journal parses. With --justify it then removes each fsync in turn
and shows a state that breaks without it, or reports the fsync as unjustified; the fsyncs of a
remote's trusted metadata and of a pull's partial/ (under remotes/) are listed, not judged.
Hard links by name (a pull's tree made of its objects' inodes and of stored ones) are modelled:
one inode under two names.

usage: crash_states.py [--justify] MCP_GEN BASELINE_ROOT WORKDIR ARG... ({root} stands for the root)
"""
import json, os, re, shutil, subprocess, sys

LINE = re.compile(r'^\d+\s+(\w+)\((.*)\)\s+=\s+(-?\d+)(?:<([^>]*)>)?')
FD = re.compile(r'(?:\d+|AT_FDCWD)<([^>]*)>')
STR = re.compile(r'"((?:[^"\\]|\\.)*)"')


def wipe(path):
    """Removes a tree that may hold immutable (chattr +i) entries from a real run as root."""
    if os.path.lexists(path):
        subprocess.run(["chattr", "-R", "-f", "-i", path], capture_output=True)
        shutil.rmtree(path, ignore_errors=True)


UNFINISHED = re.compile(r'^(\d+)\s+(.*) <unfinished \.\.\.>$')
RESUMED = re.compile(r'^(\d+)\s+<\.\.\. \w+ resumed>(.*)$')


def joined(log):
    """The log's lines, with each call another thread interrupted (`<unfinished ...>` ...
    `<... NAME resumed>`) put back together at the point where it returned."""
    pending = {}
    for raw in open(log, encoding="utf-8", errors="replace"):
        raw = raw.rstrip("\n")
        m = UNFINISHED.match(raw)
        if m:
            pending[m.group(1)] = m.group(2)
            continue
        m = RESUMED.match(raw)
        if m and m.group(1) in pending:
            yield "%s %s%s" % (m.group(1), pending.pop(m.group(1)), m.group(2))
            continue
        yield raw


def parse(log, root):
    ops = []
    unnamed = {}  # descriptor number -> the O_TMPFILE file it is ("dir/#inode")
    for raw in joined(log):
        m = LINE.match(raw)
        if not m:
            continue
        call, args, ret, retpath = m.group(1), m.group(2), int(m.group(3)), m.group(4)
        if ret < 0:
            continue
        fds = FD.findall(args)
        strs = STR.findall(args)
        def rel(p):
            return os.path.relpath(p, root) if p == root or p.startswith(root + "/") else None
        if call in ("openat", "openat2") and "O_TMPFILE" in args and retpath:
            # An unnamed file (TemporaryFile): data and fsyncs, but no name until a linkat.
            p = rel(retpath)
            if p is not None:
                unnamed[ret] = p
                ops.append(("tmpfile", p))
        elif call in ("openat", "openat2") and "O_CREAT" in args and retpath:
            p = rel(retpath)
            if p is not None:
                ops.append(("create", p))
        elif call == "linkat" and len(fds) >= 2 and len(strs) >= 2:
            # linkat(FD, "", DIR, NAME, AT_EMPTY_PATH) or linkat(AT_FDCWD, "/proc/self/fd/N", ...)
            # of an unnamed file (or, with AT_EMPTY_PATH, of a named one: a second name).
            # linkat(DIR, NAME, DIR2, NAME2, 0): a second name for a named file (a pull's tree
            # made of its objects' inodes, or of a stored entry's shared ones).
            if "AT_EMPTY_PATH" in args:
                src = rel(fds[0])
                if src not in unnamed.values():
                    # A named file linked through its descriptor (a pull sharing the stored
                    # file it hashed): a second name, as below.
                    b = rel(os.path.join(fds[1], strs[1]))
                    if src is not None and b is not None:
                        ops.append(("hardlink", src, b))
                    continue
            else:
                m = re.match(r"/proc/self/fd/(\d+)$", strs[0])
                src = unnamed.get(int(m.group(1))) if m else None
                if m is None and strs[0]:
                    named = rel(os.path.join(fds[0], strs[0]))
                    b = rel(os.path.join(fds[1], strs[1]))
                    if named is not None and b is not None:
                        ops.append(("hardlink", named, b))
                    continue
            b = rel(os.path.join(fds[1], strs[1]))
            if src is not None and b is not None:
                ops.append(("link", src, b))
        elif call in ("write", "pwrite64") and fds:
            p = rel(fds[0])
            if p is not None and p != "lock":
                ops.append(("write", p, ret))
        elif call == "fchmod" and fds:
            p = rel(fds[0])
            mode = int(args.rsplit(",", 1)[1].strip(), 8)
            if p is not None:
                ops.append(("chmod", p, mode))
        elif call == "mkdirat" and fds and strs:
            p = rel(os.path.join(fds[0], strs[0]))
            if p is not None:
                ops.append(("mkdir", p))
        elif call == "symlinkat" and fds and len(strs) >= 2:
            p = rel(os.path.join(fds[0], strs[1]))
            if p is not None:
                ops.append(("symlink", p, strs[0]))
        elif call in ("renameat", "renameat2", "rename") and len(fds) >= 2 and len(strs) >= 2:
            a, b = rel(os.path.join(fds[0], strs[0])), rel(os.path.join(fds[1], strs[1]))
            if a is not None and b is not None:
                ops.append(("rename", a, b))
        elif call == "unlinkat" and fds and strs:
            p = rel(os.path.join(fds[0], strs[0]))
            if p is not None:
                ops.append(("unlink", p, "AT_REMOVEDIR" in args))
        elif call in ("fsync", "fdatasync") and fds:
            p = rel(fds[0])
            if p is not None:
                ops.append(("fsync", p))
        elif call == "syncfs":
            ops.append(("syncfs",))
    return ops


class Model:
    """Follows inode identities through renames, so a later fsync or a final content lookup
    finds the file an earlier operation touched."""

    def __init__(self, baseline):
        self.ids = {}
        self.next = 0
        for dirpath, dirnames, filenames in os.walk(baseline):
            for name in [""] + dirnames + filenames:
                p = os.path.relpath(os.path.join(dirpath, name), baseline)
                p = "." if p == "." else p
                if p not in self.ids:
                    self.ids[p] = self.new()

    def new(self):
        self.next += 1
        return self.next

    def id(self, p):
        if p not in self.ids:
            self.ids[p] = self.new()
        return self.ids[p]

    def rename(self, a, b):
        moved = {k: v for k, v in self.ids.items() if k == a or k.startswith(a + "/")}
        for k in [k for k in self.ids if k == b or k.startswith(b + "/")]:
            del self.ids[k]
        for k, v in moved.items():
            del self.ids[k]
            self.ids[b + k[len(a):]] = v


def annotate(ops, baseline, skip_fsync=None):
    """Each op gets the identities it touches (file for data, parent dirs for names), and the
    index of the first later fsync/syncfs that makes it durable."""
    model = Model(baseline)
    info = []
    for i, op in enumerate(ops):
        kind = op[0]
        parent = lambda p: os.path.dirname(p) or "."
        if kind == "create":
            existed = op[1] in model.ids
            fid = model.id(op[1])
            info.append({"data": [], "names": [] if existed else [model.id(parent(op[1]))], "file": fid})
        elif kind == "tmpfile":
            # A new inode without a name (an inode number can come back for a later one).
            model.ids[op[1]] = model.new()
            info.append({"data": [], "names": [], "file": model.ids[op[1]]})
        elif kind == "link":
            fid = model.id(op[1])
            del model.ids[op[1]]
            model.ids[op[2]] = fid
            info.append({"data": [], "names": [model.id(parent(op[2]))], "file": fid})
        elif kind == "hardlink":
            # Both names are one inode: its data is durable by an fsync under either name.
            fid = model.id(op[1])
            model.ids[op[2]] = fid
            info.append({"data": [], "names": [model.id(parent(op[2]))], "file": fid})
        elif kind in ("write", "chmod"):
            info.append({"data": [model.id(op[1])], "names": [], "file": model.id(op[1])})
        elif kind in ("mkdir", "symlink"):
            info.append({"data": [], "names": [model.id(parent(op[1]))], "file": model.id(op[1])})
        elif kind == "rename":
            fid = model.id(op[1])
            names = [model.id(parent(op[1])), model.id(parent(op[2]))]
            model.rename(op[1], op[2])
            info.append({"data": [], "names": names, "file": fid})
        elif kind == "unlink":
            names = [model.id(parent(op[1]))]
            for k in [k for k in model.ids if k == op[1] or k.startswith(op[1] + "/")]:
                del model.ids[k]
            info.append({"data": [], "names": names})
        elif kind == "fsync":
            info.append({"sync": model.id(op[1])})
        else:
            info.append({"sync": "all"})
    final_paths = {v: k for k, v in model.ids.items()}
    durable = []
    for i, op in enumerate(ops):
        need = set(info[i].get("data", [])) | set(info[i].get("names", []))
        at = None
        if "sync" in info[i]:
            at = i
        else:
            remaining = set(need)
            for j in range(i + 1, len(ops)):
                s = info[j].get("sync")
                if s is None or j == skip_fsync:
                    continue
                if s == "all":
                    remaining = set()
                else:
                    remaining.discard(s)
                if not remaining:
                    at = j
                    break
            if not need:
                at = i
        durable.append(at)
    return info, durable, final_paths


def materialize(state_dir, baseline, final_root, ops, info, final_paths, keep_ops, keep_data, k):
    wipe(state_dir)
    subprocess.run(["cp", "-a", baseline, state_dir], check=True)
    base_len = {}
    model = Model(baseline)
    written = {}
    chmods = []
    for i in range(k + 1):
        op = ops[i]
        kind = op[0]
        fid = info[i].get("file")
        if kind == "write" and i in keep_data:
            written[fid] = written.get(fid, 0) + op[2]
        if kind == "chmod" and i in keep_data:
            chmods.append((fid, op[2]))
        if kind in ("write", "chmod", "fsync", "syncfs") or i not in keep_ops:
            if kind == "rename" and i not in keep_ops:
                pass
            continue
        target = lambda p: os.path.join(state_dir, p)
        try:
            if kind == "create":
                if not os.path.lexists(target(op[1])):
                    open(target(op[1]), "wb").close()
                    model.ids[op[1]] = fid
            # The identity annotate gave it: one numbered here anew could be another file's
            # (a later chmod of that file would then land on this one).
            elif kind == "mkdir":
                os.mkdir(target(op[1]), 0o700)
                model.ids[op[1]] = fid
            elif kind == "symlink":
                os.symlink(op[2], target(op[1]))
                model.ids[op[1]] = fid
            elif kind == "hardlink":
                # The same inode under a second name (when the first survived the crash).
                if os.path.lexists(target(op[1])) and not os.path.lexists(target(op[2])):
                    os.link(target(op[1]), target(op[2]))
                    model.ids[op[2]] = fid
            elif kind == "link":
                # The unnamed file gets its name; its contents are filled in below.
                if not os.path.lexists(target(op[2])):
                    open(target(op[2]), "wb").close()
                    model.ids[op[2]] = fid
            elif kind == "rename":
                os.rename(target(op[1]), target(op[2]))
                model.rename(op[1], op[2])
            elif kind == "unlink":
                (os.rmdir if op[2] else os.unlink)(target(op[1]))
                for key in [x for x in model.ids if x == op[1] or x.startswith(op[1] + "/")]:
                    del model.ids[key]
        except OSError:
            pass  # depends on a dropped operation
    # Contents: a kept prefix of what the file finally held.
    for p, fid in list(model.ids.items()):
        full = os.path.join(state_dir, p)
        if not os.path.isfile(full) or os.path.islink(full):
            continue
        base = os.path.join(baseline, p)
        start = os.path.getsize(base) if os.path.isfile(base) and not os.path.islink(base) else 0
        n = written.get(fid, 0)
        if n == 0:
            continue
        src = final_paths.get(fid)
        data = b""
        if src and os.path.isfile(os.path.join(final_root, src)):
            with open(os.path.join(final_root, src), "rb") as f:
                data = f.read()[: start + n]
        else:
            data = b"\0" * (start + n)
        os.chmod(full, 0o644)
        with open(full, "wb") as f:
            f.write(data)
    for fid, mode in chmods:
        for p, v in model.ids.items():
            if v == fid and os.path.exists(os.path.join(state_dir, p)) and not os.path.islink(os.path.join(state_dir, p)):
                os.chmod(os.path.join(state_dir, p), mode)


def check(binary, state, allowed, finished=None):
    """`finished`, for the crash point after the command's last operation (it has reported
    success): (new key, journal lines) that must have survived."""
    def run(*args):
        return subprocess.run([binary, *args, "--root", state], capture_output=True, text=True)
    problems = []
    cur = os.path.join(state, "current")
    if os.path.islink(cur):
        gen = os.readlink(cur)
        link = os.path.join(state, gen)
        key = os.path.basename(os.readlink(link)) if os.path.islink(link) else None
        if key not in allowed:
            problems.append("current is %s -> %s, not the old or the new release" % (gen, key))
        elif run("verify").returncode != 0:
            problems.append("current's release does not verify")
    elif None not in allowed:
        problems.append("current is missing")
    audit = run("audit", "--json")
    try:
        found = json.loads(audit.stdout)["problems"]
    except Exception:
        found = [{"severity": "error", "detail": "audit did not run: " + audit.stderr.strip()}]
    for p in found:
        if p["severity"] != "warning" and p.get("kind") != "current":
            problems.append("audit: %s %s" % (p.get("kind"), p.get("detail")))
    if run("log").returncode != 0:
        problems.append("journal does not parse")
    # The checkpoint (store-layout.md, "The checkpoint"), whatever a crash left of it, is right or
    # is not used: list and status say the same with it and without it.
    checkpoint = os.path.join(state, "checkpoint.json")
    if os.path.lexists(checkpoint):
        views = lambda: [(r.returncode, r.stdout) for r in (run("list", "--json"), run("status", "--json"))]
        with_it = views()
        aside = state + ".checkpoint"
        os.rename(checkpoint, aside)
        try:
            if views() != with_it:
                problems.append("list or status differ with the checkpoint the crash left")
        finally:
            os.rename(aside, checkpoint)
    if finished:
        key, lines, entries = finished
        store = os.path.join(state, "store")
        have_entries = set(os.listdir(store)) if os.path.isdir(store) else set()
        for name in sorted(entries - have_entries):
            problems.append("the command reported success, but store/%s is gone" % name[:12])
        if os.path.islink(cur) and key is not None:
            gen = os.readlink(cur)
            link = os.path.join(state, gen)
            if not os.path.islink(link) or os.path.basename(os.readlink(link)) != key:
                problems.append("the command reported success, but current is not its release")
        journal = os.path.join(state, "journal.jsonl")
        have = open(journal, "rb").read().count(b"\n") if os.path.exists(journal) else 0
        if have < lines:
            problems.append("the command reported success, but its journal line is lost")
    return problems


def states(ops, durable, k):
    all_ns = {i for i in range(k + 1) if ops[i][0] in ("create", "mkdir", "symlink", "rename", "unlink", "link", "hardlink")}
    all_data = {i for i in range(k + 1) if ops[i][0] in ("write", "chmod")}
    volatile_ns = {i for i in all_ns if durable[i] is None or durable[i] > k}
    durable_data = {i for i in all_data if durable[i] is not None and durable[i] <= k}
    yield "all kept", all_ns, all_data
    yield "durable only", all_ns - volatile_ns, durable_data
    yield "names kept, volatile data lost", all_ns, durable_data
    for j in sorted(volatile_ns):
        yield "op %d dropped" % j, all_ns - {j}, durable_data


def explore(binary, baseline, final_root, work, ops, allowed, finished, skip_fsync=None, stop_at_first=False):
    info, durable, final_paths = annotate(ops, baseline, skip_fsync)
    seen, failures, count = set(), [], 0
    for k in range(-1, len(ops)):
        for label, keep_ops, keep_data in states(ops, durable, k):
            sig = (frozenset(keep_ops), frozenset(keep_data), k == len(ops) - 1)
            if sig in seen:
                continue
            seen.add(sig)
            state = os.path.join(work, "state")
            materialize(state, baseline, final_root, ops, info, final_paths, keep_ops, keep_data, k)
            count += 1
            bad = check(binary, state, allowed, finished if k == len(ops) - 1 else None)
            if bad:
                failures.append((k, label, bad))
                if stop_at_first:
                    return count, failures
    return count, failures


CHECKPOINT = "checkpoint.json"


def is_checkpoint_sync(ops, f):
    """Whether fsync `f` is the checkpoint's: of its temporary file (renamed to checkpoint.json
    later) or of the root right after that rename."""
    op = ops[f]
    if op[0] != "fsync":
        return False
    if any(o[0] == "rename" and o[1] == op[1] and o[2] == CHECKPOINT for o in ops[f + 1:]):
        return True
    # An unnamed file linked under a temporary name that is then renamed to checkpoint.json.
    for i, o in enumerate(ops[f + 1:], f + 1):
        if o[0] == "link" and o[1] == op[1]:
            if any(r[0] == "rename" and r[1] == o[2] and r[2] == CHECKPOINT for r in ops[i + 1:]):
                return True
            break
    return op[1] == "." and f > 0 and ops[f - 1][0] == "rename" and ops[f - 1][2] == CHECKPOINT


def main():
    args = sys.argv[1:]
    justify = args and args[0] == "--justify"
    if justify:
        args = args[1:]
    binary, baseline, work = args[0], os.path.abspath(args[1]), os.path.abspath(args[2])
    command = args[3:]
    os.makedirs(work, exist_ok=True)
    ref = os.path.join(work, "ref")
    wipe(ref)
    subprocess.run(["cp", "-a", baseline, ref], check=True)
    log = os.path.join(work, "trace.log")
    run = subprocess.run(["strace", "-f", "-y", "-s", "0", "-qq", "-o", log, "-e",
                          "trace=openat,openat2,write,pwrite64,fsync,fdatasync,syncfs,rename,renameat,renameat2,symlinkat,linkat,unlinkat,mkdirat,fchmod",
                          binary] + [a.replace("{root}", ref) for a in command], capture_output=True, text=True)
    if run.returncode not in (0, 4):
        print("reference run failed:", run.stderr, file=sys.stderr)
        return 2
    ops = parse(log, ref)

    def key_of(root):
        cur = os.path.join(root, "current")
        if not os.path.islink(cur):
            return None
        return os.path.basename(os.readlink(os.path.join(root, os.readlink(cur))))
    allowed = {key_of(baseline), key_of(ref)}
    journal = os.path.join(ref, "journal.jsonl")
    entries = {n for n in os.listdir(os.path.join(ref, "store")) if not n.startswith(".")}
    finished = (key_of(ref), open(journal, "rb").read().count(b"\n") if os.path.exists(journal) else 0, entries)
    count, failures = explore(binary, baseline, ref, work, ops, allowed, finished)
    name = " ".join(a for a in command if a != "{root}" and a != "--root")
    print("crash states checked for %s: %d (%d operations, %d fsync/syncfs)" % (
        name, count, len(ops), sum(1 for o in ops if o[0] in ("fsync", "syncfs"))))
    for k, label, bad in failures[:10]:
        print("  BROKEN after op %d (%s): %s" % (k, label, "; ".join(bad)))
    status = 1 if failures else 0
    if justify:
        for f, op in enumerate(ops):
            if op[0] not in ("fsync", "syncfs"):
                continue
            if is_checkpoint_sync(ops, f):
                # Only a cache: without the fsync a crash leaves the old or a torn checkpoint,
                # which readers detect and ignore; kept so that one survives a power cut.
                print("  cache: %s %s (#%d): the checkpoint's" % (op[0], op[1] if len(op) > 1 else "", f))
                continue
            if op[0] == "fsync" and (op[1] == "remotes" or op[1].startswith("remotes/")):
                # A remote's trusted metadata (kept durably so it never goes back to an older
                # version: TUF's rollback protection) and a pull's partial/: the states checked
                # here judge the store, generations and journal, not these (section 15).
                print("  remote: %s %s (#%d): not judged here" % (op[0], op[1], f))
                continue
            _, broken = explore(binary, baseline, ref, work, ops, allowed, finished, skip_fsync=f, stop_at_first=True)
            what = "%s %s" % (op[0], op[1] if len(op) > 1 else "")
            if broken:
                k, label, bad = broken[0]
                print("  needed: %s (#%d): without it, after op %d (%s): %s" % (what, f, k, label, bad[0]))
            else:
                print("  UNJUSTIFIED: %s (#%d): no crash state breaks without it" % (what, f))
    wipe(os.path.join(work, "state"))
    wipe(ref)
    return status


if __name__ == "__main__":
    sys.exit(main())
