#!/usr/bin/python3
# File-level diff of two disk images in ONE libguestfs appliance launch (lib/content/file-diff.ts
# runs it in its own process group). Both drives are added read-only with explicit formats, each
# OS (or, on a data disk, each filesystem) is mounted read-only under its own appliance mountpoint
# (/from, /to), both trees are listed without following symlinks, regular files are compared by
# SHA-256, and the contents of small changed or added text files under /etc are returned so the
# caller computes line diffs. Guest content is hostile: names are data, symlinks are never
# followed (mountpoints that pass through one are skipped), the number of entries and the size of
# returned text are capped.
#
# usage: diff.py FROM_PATH FROM_FORMAT TO_PATH TO_FORMAT OUT_JSON WORK_DIR MAX_ENTRIES
import json
import os
import posixpath
import stat
import sys
import time

import guestfs

TEXT_MAX = 64 * 1024
# More paths than this in one image is refused rather than exhausting the worker's memory.
PATHS_MAX = 1_000_000
TEXT_TOTAL_MAX = 4 * 1024 * 1024
BATCH = 500
SIDES = ("from", "to")


STARTED = time.monotonic()


def log(message):
    print("[%.1fs] %s" % (time.monotonic() - STARTED, message), file=sys.stderr, flush=True)


def first_line(error, limit=200):
    lines = str(error).splitlines()
    return lines[0][:limit] if lines else type(error).__name__


def drive_of(g, device, drives):
    """Index of the added drive a mountable lives on, or None when it can't be told."""
    if device.startswith("btrfsvol:"):
        device = device[len("btrfsvol:"):]
        for drive in drives:
            if device.startswith(drive):
                device = device[: len(drive)] + device[len(drive):].split("/", 1)[0]
                break
    if device in drives:
        return drives.index(device)
    try:
        whole = g.part_to_dev(device)
        if whole in drives:
            return drives.index(whole)
    except RuntimeError:
        pass
    try:  # a logical volume: the drives of its volume group's physical volumes
        name = g.lvm_canonical_lv_name(device)
        vg = name.split("/")[2]
        uuids = set(g.vgpvuuids(vg))
        found = set()
        for pv in g.pvs_full():
            if pv["pv_uuid"] in uuids:
                index = drive_of(g, pv["pv_name"], drives)
                if index is not None:
                    found.add(index)
        if len(found) == 1:
            return found.pop()
    except (RuntimeError, IndexError, KeyError):
        pass
    return None


def same_place_on(g, device, drives, index):
    """A partition the guest's fstab resolved (by UUID or label) onto the OTHER drive, moved onto
    its own drive: two versions of one image often share filesystem UUIDs."""
    owner = drive_of(g, device, drives)
    if owner is None or owner == index:
        return device
    try:
        number = g.part_to_partnum(device)
        return "%s%d" % (drives[index], number)
    except RuntimeError:
        return drives[index] if device == drives[owner] else device


def safe_mountpoint(path):
    parts = [part for part in path.split("/") if part and part != "."]
    if ".." in parts:
        return None
    return "/" + "/".join(parts)


def passes_symlink(g, prefix, mountpoint):
    current = prefix
    for part in [p for p in mountpoint.split("/") if p]:
        current = current + "/" + part
        try:
            if g.is_symlink(current):
                return True
        except RuntimeError:
            return True
    return False


def plan_side(g, index, drives, roots, filesystems, notes):
    """What to mount for one image: [(path under its prefix, device)], and whether it is an OS."""
    own_roots = [root for root in roots if drive_of(g, root, drives) == index]
    side = SIDES[index]
    if own_roots:
        root = own_roots[0]
        if len(own_roots) > 1:
            notes.append(
                "The %s image holds %d operating systems; only the one on %s is compared." % (side, len(own_roots), root)
            )
        mounts = {}
        for mountpoint, device in g.inspect_get_mountpoints(root).items():
            safe = safe_mountpoint(mountpoint)
            if safe is not None and safe != "/":
                mounts[safe] = same_place_on(g, device, drives, index)
        ordered = sorted(mounts, key=lambda m: (m.count("/"), m))
        return [("/", root)] + [(m, mounts[m]) for m in ordered], True
    # No operating system found: each filesystem of this drive, one per partition.
    own = sorted(
        d for d, t in filesystems.items() if t not in ("swap", "unknown", "") and drive_of(g, d, drives) == index
    )
    if not own:
        notes.append("No filesystem could be read on the %s image." % side)
        return [], False
    notes.append("No operating system was found on the %s image; its filesystems are compared as they are." % side)
    if len(own) == 1:
        return [("/", own[0])], False
    plan = []
    for device in own:
        try:
            label = "part%d" % g.part_to_partnum(device)
        except RuntimeError:
            label = posixpath.basename(device)
        plan.append(("/" + label, device))
    return plan, False


def mount_side(g, index, plan, is_os, notes):
    side = SIDES[index]
    prefix = "/" + side
    for mountpoint, device in plan:
        target = prefix if mountpoint == "/" else prefix + mountpoint
        if is_os and mountpoint != "/" and passes_symlink(g, prefix, mountpoint):
            notes.append(
                "The %s image's %s is not compared: its mountpoint is a symbolic link." % (side, mountpoint[:200])
            )
            continue
        try:
            g.mount_ro(device, target)
        except RuntimeError as error:
            if is_os and mountpoint == "/":
                raise
            notes.append(
                "The %s image's %s (%s) could not be mounted: %s"
                % (side, mountpoint[:200], device[:200], first_line(error))
            )


def kind(mode):
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISCHR(mode):
        return "char-device"
    if stat.S_ISBLK(mode):
        return "block-device"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "unknown"


def display(raw):
    return raw.decode("utf-8", "backslashreplace")


def list_tree(g, prefix, work, side):
    """Every path under prefix (symlinks not followed): {display path: entry}."""
    names_file = os.path.join(work, side + ".names")
    g.find0(prefix, names_file)
    with open(names_file, "rb") as handle:
        raw_names = [name for name in handle.read().split(b"\0") if name]
    os.unlink(names_file)
    if len(raw_names) > PATHS_MAX:
        raise RuntimeError(
            "the %s image holds more than %d files and directories; that is more than Hangar compares" % (side, PATHS_MAX)
        )
    tree = {}
    by_dir = {}
    for raw in raw_names:
        raw = raw.lstrip(b"/")
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            # A name the API can't carry: compared by existence only.
            tree["/" + display(raw)] = {"type": "unknown", "size": None, "mode": None, "uid": None, "gid": None}
            continue
        parent, _, base = name.rpartition("/")
        by_dir.setdefault(parent, []).append(base)
    links = {}
    for parent, bases in by_dir.items():
        directory = prefix + "/" + parent if parent else prefix
        shown = "/" + parent + "/" if parent else "/"
        for start in range(0, len(bases), BATCH):
            batch = bases[start:start + BATCH]
            for base, st in zip(batch, g.lstatnslist(directory, batch)):
                mode = st["st_mode"]
                if mode < 0:
                    continue  # vanished or unreadable
                entry = {
                    "type": kind(mode),
                    "size": st["st_size"],
                    "mode": stat.S_IMODE(mode),
                    "uid": st["st_uid"],
                    "gid": st["st_gid"],
                }
                tree[shown + base] = entry
                if entry["type"] == "symlink":
                    links.setdefault(parent, []).append(base)
    for parent, bases in links.items():
        directory = prefix + "/" + parent if parent else prefix
        shown = "/" + parent + "/" if parent else "/"
        for start in range(0, len(bases), BATCH):
            batch = bases[start:start + BATCH]
            for base, target in zip(batch, g.readlinklist(directory, batch)):
                tree[shown + base]["target"] = target
    sums_file = os.path.join(work, side + ".sums")
    g.checksums_out("sha256", prefix, sums_file)
    with open(sums_file, "rb") as handle:
        for line in handle.read().split(b"\n"):
            if not line:
                continue
            escaped = line.startswith(b"\\")
            if escaped:
                line = line[1:]
            digest, _, name = line.partition(b"  ")
            if escaped:
                name = name.replace(b"\\n", b"\n").replace(b"\\\\", b"\\")
            if name.startswith(b"./"):
                name = name[1:]
            elif not name.startswith(b"/"):
                name = b"/" + name
            entry = tree.get(display(name))
            if entry is not None:
                entry["sha256"] = digest.decode("ascii", "replace")
    os.unlink(sums_file)
    return tree


def compare(before, after):
    """(path, change, type, sizeBefore, sizeAfter, details, content changed) for every difference."""
    found = []
    size = lambda entry: None if entry["type"] == "directory" else entry["size"]
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old is None:
            found.append((path, "added", new["type"], None, size(new), [], True))
            continue
        if new is None:
            found.append((path, "removed", old["type"], size(old), None, [], False))
            continue
        details = []
        content = False
        if old["type"] != new["type"]:
            details.append("type %s → %s" % (old["type"], new["type"]))
            content = True
        elif old["type"] == "file":
            if old["size"] != new["size"] or old.get("sha256") != new.get("sha256"):
                details.append("content")
                content = True
        elif old["type"] == "symlink":
            if old.get("target") != new.get("target"):
                details.append("target")
        if old["mode"] is not None and old["mode"] != new["mode"] and old["type"] == new["type"]:
            details.append("mode %04o → %04o" % (old["mode"], new["mode"]))
        if (old["uid"], old["gid"]) != (new["uid"], new["gid"]):
            details.append("owner %s:%s → %s:%s" % (old["uid"], old["gid"], new["uid"], new["gid"]))
        if details:
            found.append((path, "changed", new["type"], size(old), size(new), details, content))
    return found


def read_text(g, guest_path):
    try:
        data = g.read_file(guest_path)
    except RuntimeError:
        return None
    if len(data) > TEXT_MAX or b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def main():
    from_path, from_format, to_path, to_format, out_path, work, max_entries = sys.argv[1:8]
    max_entries = int(max_entries)
    g = guestfs.GuestFS(python_return_dict=True)
    g.set_network(False)
    for path, fmt in ((from_path, from_format), (to_path, to_format)):
        # readonly: the appliance writes to a throwaway overlay; the format is never guessed.
        g.add_drive_opts(path, readonly=True, format=fmt)
    log("launching the appliance")
    g.launch()
    drives = g.list_devices()
    if len(drives) != 2:
        raise RuntimeError("expected 2 drives in the appliance, found %d" % len(drives))
    log("inspecting both images")
    roots = g.inspect_os()
    filesystems = g.list_filesystems()
    notes = []
    plans = [plan_side(g, index, drives, roots, filesystems, notes) for index in range(2)]
    # Appliance mountpoints are made before anything is mounted.
    for index, side in enumerate(SIDES):
        g.mkmountpoint("/" + side)
        plan, is_os = plans[index]
        if not is_os:
            for mountpoint, _ in plan:
                if mountpoint != "/":
                    g.mkmountpoint("/" + side + mountpoint)
    for index in range(2):
        mount_side(g, index, plans[index][0], plans[index][1], notes)
    trees = []
    for side in SIDES:
        log("listing the %s image" % side)
        trees.append(list_tree(g, "/" + side, work, side))
    differences = compare(trees[0], trees[1])
    kept = differences[:max_entries]
    files = []
    text_budget = TEXT_TOTAL_MAX
    for path, change, type_, size_before, size_after, details, content in kept:
        entry = {"path": path, "change": change, "type": type_, "sizeBefore": size_before, "sizeAfter": size_after}
        if details:
            entry["details"] = details
        if (
            content
            and path.startswith("/etc/")
            and type_ == "file"
            and (size_after or 0) <= TEXT_MAX
            and (size_before or 0) <= TEXT_MAX
            and (change == "added" or trees[0][path]["type"] == "file")
            and text_budget > 0
        ):
            before = "" if change == "added" else read_text(g, "/from" + path)
            after = read_text(g, "/to" + path)
            if before is not None and after is not None:
                text_budget -= len(before) + len(after)
                entry["textBefore"] = before
                entry["textAfter"] = after
        files.append(entry)
    g.umount_all()
    g.shutdown()
    g.close()
    result = {
        "files": files,
        "total": len(differences),
        "truncated": len(differences) > max_entries,
        "notes": notes,
        "counts": [len(trees[0]), len(trees[1])],
    }
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    log("compared %d and %d paths: %d differences" % (len(trees[0]), len(trees[1]), len(differences)))


if __name__ == "__main__":
    try:
        main()
    except RuntimeError as error:
        # libguestfs' own words; the caller turns them into a failure reason.
        print("error: " + first_line(error, 500), file=sys.stderr)
        sys.exit(2)
    except Exception as error:  # anything else: its type and first line, the traceback for the log
        import traceback

        traceback.print_exc()
        print("error: %s: %s" % (type(error).__name__, first_line(error, 500)), file=sys.stderr)
        sys.exit(3)
