#!/usr/bin/python3
# What is inside one disk image, read with ONE libguestfs appliance launch, printed as one JSON
# object on stdout. Run by lib/content/scan.ts (in its own process group); never by hand on a
# writable disk (the drive is added read-only anyway).
#
#   inspect.py DISK FORMAT
#
# The format is always given (never probed). A linked clone is a qcow2 overlay: the caller has
# checked that the overlay records its backing file's format, so qemu opens the chain without
# probing either.
#
# Guest data is hostile: every string is capped and made printable, every list is capped, files
# are read only when they are regular files of bounded size (libguestfs resolves paths inside the
# guest's root, so no symlink leads out of it, and none is followed here to decide anything), and
# nothing read is ever executed or interpreted beyond splitting text into lines.
import json
import re
import sys
import time

import guestfs

MAX_STRING = 256
MAX_PACKAGES = 50_000
MAX_FILESYSTEMS = 64
MAX_USERS = 500
MAX_SERVICES = 1000
MAX_KERNELS = 50
MAX_FILE_BYTES = 1024 * 1024
FORMATS = {"raw", "qcow2", "vmdk", "vhdx", "vdi", "vpc"}
UNMOUNTABLE = {"swap", "unknown", ""}


def text(value, limit=MAX_STRING):
    """A guest string as printable text of bounded length."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    value = "".join(ch if ch.isprintable() else "?" for ch in str(value)[: limit * 2])
    return value[:limit]


def first_line(error):
    return text(str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__, 400)


def attempt(call, *args, default=None):
    try:
        return call(*args)
    except RuntimeError:
        return default


def read_small(g, path):
    """A regular file's text (no symlink, at most MAX_FILE_BYTES), or None."""
    try:
        if not g.is_file(path, followsymlinks=False):
            return None
        if g.filesize(path) > MAX_FILE_BYTES:
            return None
        return g.read_file(path).decode("utf-8", "replace")
    except RuntimeError:
        return None


def names_in(g, directory, limit):
    """Entry names of a real directory (not a symlink to one), capped."""
    try:
        if not g.is_dir(directory, followsymlinks=False):
            return []
        return [text(name) for name in g.ls(directory)[:limit]]
    except RuntimeError:
        return []


def init_system(g):
    def is_link(path):
        return attempt(g.is_symlink, path, default=False)

    def exists(path):
        return attempt(g.exists, path, default=False)

    init = "/sbin/init"
    if is_link(init):
        target = attempt(g.readlink, init, default="") or ""
        if "systemd" in target:
            return "systemd"
        if "busybox" in target:
            return "busybox"
        if "openrc" in target:
            return "openrc"
        if "upstart" in target:
            return "upstart"
    if exists("/sbin/openrc") or exists("/sbin/openrc-init"):
        return "openrc"
    if exists("/lib/systemd/systemd") or exists("/usr/lib/systemd/systemd"):
        # systemd is installed; it is the init when /sbin/init is it or there is no other init.
        if not exists(init) or is_link(init):
            return "systemd"
    if attempt(g.is_file, init, default=False):
        if exists("/etc/inittab") or exists("/etc/init.d"):
            return "sysvinit"
        return "other"
    return None


def kernels(g):
    found = []
    for name in names_in(g, "/boot", 1000):
        if name.startswith("vmlinuz-") or name.startswith("vmlinux-"):
            found.append(name.split("-", 1)[1])
    for directory in ("/lib/modules", "/usr/lib/modules"):
        found.extend(names_in(g, directory, 1000))
    unique = sorted({text(k) for k in found if k})
    return unique[:MAX_KERNELS]


def login_users(g):
    passwd = read_small(g, "/etc/passwd") or ""
    users = []
    for line in passwd.splitlines():
        fields = line.split(":")
        if len(fields) < 7 or not fields[0] or line.startswith("#"):
            continue
        shell = fields[6].strip()
        if not shell or shell.endswith("/nologin") or shell.endswith("/false"):
            continue
        users.append(text(fields[0], 64))
        if len(users) >= MAX_USERS:
            break
    return users


def enabled_services(g, init):
    services = set()
    if init in (None, "systemd") or attempt(g.is_dir, "/etc/systemd/system", default=False):
        for wants in names_in(g, "/etc/systemd/system", 1000):
            if not wants.endswith(".wants"):
                continue
            for unit in names_in(g, "/etc/systemd/system/" + wants, 1000):
                services.add(unit)
    for level in "0123456S":
        for entry in names_in(g, "/etc/rc%s.d" % level, 1000):
            match = re.match(r"^S\d*(.+)$", entry)
            if match:
                services.add(match.group(1))
    for runlevel in names_in(g, "/etc/runlevels", 20):
        for entry in names_in(g, "/etc/runlevels/" + runlevel, 1000):
            services.add(entry)
    return sorted(s for s in services if s)[:MAX_SERVICES]


def packages(g, root):
    found = []
    try:
        apps = g.inspect_list_applications2(root)
    except RuntimeError as error:
        # A root that looks like Debian or Fedora but has no package database (such as a bare file
        # tree with an os-release) has no installed packages; any other failure is real.
        if "No such file or directory" in str(error):
            return []
        raise
    for app in apps[:MAX_PACKAGES]:
        found.append(
            {
                "name": text(app.get("app2_name")) or "",
                "epoch": int(app.get("app2_epoch") or 0),
                "version": text(app.get("app2_version")) or "",
                "release": text(app.get("app2_release")) or "",
                "arch": text(app.get("app2_arch"), 64) or "",
            }
        )
    return found


def filesystems(g, mountpoints_by_device):
    found = []
    unmountable = []
    listed = g.list_filesystems()
    for device in sorted(listed)[:MAX_FILESYSTEMS]:
        vfs_type = listed[device] or ""
        entry = {
            "device": text(device),
            "type": text(vfs_type, 64),
            "label": "",
            "uuid": "",
            "mountpoint": mountpoints_by_device.get(device, ""),
            "size": None,
            "used": None,
            "free": None,
        }
        if vfs_type not in UNMOUNTABLE:
            entry["label"] = text(attempt(g.vfs_label, device, default="")) or ""
            entry["uuid"] = text(attempt(g.vfs_uuid, device, default="")) or ""
            try:
                g.mount_ro(device, "/")
                try:
                    stat = g.statvfs("/")
                    entry["size"] = stat["blocks"] * stat["frsize"]
                    entry["free"] = stat["bavail"] * stat["frsize"]
                    entry["used"] = (stat["blocks"] - stat["bfree"]) * stat["frsize"]
                finally:
                    g.umount_all()
            except RuntimeError as error:
                unmountable.append("%s (%s): %s" % (device, vfs_type, first_line(error)))
        found.append(entry)
    return found, unmountable


def mount_root(g, root):
    mounts = g.inspect_get_mountpoints(root)
    # Parents before children: "/" before "/boot".
    for mountpoint in sorted(mounts, key=len):
        try:
            g.mount_ro(mounts[mountpoint], mountpoint)
        except RuntimeError:
            pass  # a missing or broken secondary filesystem leaves what is on it unread
    return mounts


def os_release_id(g):
    """ID= from /etc/os-release, for a distribution libguestfs does not know by name."""
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        content = read_small(g, path)
        if content is None:
            continue
        for line in content.splitlines():
            if line.startswith("ID="):
                value = line[3:].strip().strip("\"'").lower()
                return value[:64] if re.match(r"^[a-z0-9._-]+$", value) else None
    return None


def version_of(g, root):
    major = attempt(g.inspect_get_major_version, root, default=0)
    minor = attempt(g.inspect_get_minor_version, root, default=0)
    if not major and not minor:
        return None
    return "%d.%d" % (major, minor) if minor else "%d" % major


def unknown(value):
    value = text(value)
    return None if value in (None, "", "unknown") else value


def inspect(disk, disk_format):
    g = guestfs.GuestFS(python_return_dict=True)
    g.add_drive_opts(disk, format=disk_format, readonly=1)
    started = time.monotonic()
    g.launch()
    launch_ms = int((time.monotonic() - started) * 1000)
    result = {"ok": True, "launchMs": launch_ms}
    try:
        roots = g.inspect_os()
        mountpoints_by_device = {}
        for root in roots:
            for mountpoint, device in g.inspect_get_mountpoints(root).items():
                mountpoints_by_device.setdefault(device, text(mountpoint))
        fs, unmountable = filesystems(g, mountpoints_by_device)
        result["filesystems"] = fs
        if not roots:
            if unmountable:
                return {
                    "ok": False,
                    "launchMs": launch_ms,
                    "reason": "The image's filesystems could not be read, so nothing inside it could be inspected; they may be corrupt: "
                    + "; ".join(unmountable[:3]),
                }
            known = [f for f in fs if f["type"] not in ("unknown", "")]
            if not known:
                reason = "No operating system was found: the disk has no filesystem libguestfs recognises (it is empty, unformatted or encrypted)."
            else:
                kinds = ", ".join(sorted({f["type"] for f in known}))
                reason = "No operating system was found: the disk holds %d filesystem%s (%s) but none looks like an installed OS (a data disk)." % (
                    len(known),
                    "" if len(known) == 1 else "s",
                    kinds,
                )
            result.update(osFound=False, noOsReason=reason)
            return result
        root = roots[0]
        package_format = unknown(attempt(g.inspect_get_package_format, root))
        result.update(
            osFound=True,
            noOsReason=None,
            roots=len(roots),
            osType=unknown(attempt(g.inspect_get_type, root)),
            distro=unknown(attempt(g.inspect_get_distro, root)),
            productName=unknown(attempt(g.inspect_get_product_name, root)),
            osVersion=version_of(g, root),
            arch=unknown(attempt(g.inspect_get_arch, root)),
            hostname=unknown(attempt(g.inspect_get_hostname, root)),
            packageFormat=package_format,
            packageManager=unknown(attempt(g.inspect_get_package_management, root)),
        )
        mount_root(g, root)
        if result["distro"] is None:
            result["distro"] = os_release_id(g)
        init = init_system(g)
        result.update(
            initSystem=init,
            kernels=kernels(g),
            loginUsers=login_users(g),
            enabledServices=enabled_services(g, init),
            packages=packages(g, root) if package_format else [],
        )
        g.umount_all()
        return result
    finally:
        attempt(g.shutdown)
        g.close()


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in FORMATS:
        print("usage: inspect.py DISK FORMAT (one of %s)" % ", ".join(sorted(FORMATS)), file=sys.stderr)
        return 2
    try:
        result = inspect(sys.argv[1], sys.argv[2])
    except RuntimeError as error:
        result = {"ok": False, "reason": "libguestfs could not read the image: %s" % first_line(error)}
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
