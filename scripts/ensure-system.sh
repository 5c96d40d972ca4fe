#!/usr/bin/env bash
# Installs the Debian packages Hangar runs on, when any is missing: qemu-img, libguestfs
# (virt-customize, plus a kernel for its appliance), a static busybox and mkfs.ext4 for the tiny test guests, debootstrap for a Debian one, Chromium for the
# browser tests, OpenStack Swift for the S3 store's tests. Needs root (or sudo) the first time; instant once everything is there.
set -euo pipefail

need=()
command -v qemu-img >/dev/null 2>&1 || need+=(qemu-utils)
command -v virt-customize >/dev/null 2>&1 || need+=(libguestfs-tools)
command -v virt-sysprep >/dev/null 2>&1 || need+=(guestfs-tools)
[ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q "statically linked" || need+=(busybox-static)
command -v mkfs.ext4 >/dev/null 2>&1 || need+=(e2fsprogs)
command -v debugfs >/dev/null 2>&1 || need+=(e2fsprogs)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v prlimit >/dev/null 2>&1 || need+=(util-linux)
# Builds with package steps run in their own network namespace (unshare, ip).
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
# The build network test's Debian guest.
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v file >/dev/null 2>&1 || need+=(file)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v genisoimage >/dev/null 2>&1 || need+=(genisoimage)
# Boot tests run the image in a real virtual machine (TCG where there is no usable KVM).
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
# The bootable Debian image (demo and tests) gets EXTLINUX: its master boot record comes from the host.
[ -f /usr/lib/EXTLINUX/mbr.bin ] || need+=(extlinux)
# Content inspection and diffs drive libguestfs through its Python API: one appliance launch each.
/usr/bin/python3 -c "import guestfs" >/dev/null 2>&1 || need+=(python3-guestfs)
# The rpm version-ordering tests compare against rpm's own rpm.vercmp (rpmdevtools is not in Debian).
command -v rpm >/dev/null 2>&1 || need+=(rpm)
# LXD/Incus metadata tarballs are xz-compressed by xz itself; the simplestreams feed is tested with LXD's own client.
command -v xz >/dev/null 2>&1 || need+=(xz-utils)
command -v lxc >/dev/null 2>&1 || need+=(lxd-client)
# The S3 blob store is tested against a real one-node OpenStack Swift with its S3 API (tests/swift.ts).
for server in proxy account container object; do
  [ -x /usr/bin/swift-$server-server ] || need+=(swift swift-$server)
done
# The platform download tests fetch feeds as the platforms do: wget, and qemu-img over HTTP (its curl block driver).
command -v wget >/dev/null 2>&1 || need+=(wget)
ls /usr/lib/*/qemu/block-curl.so >/dev/null 2>&1 || need+=(qemu-block-extra)
# libguestfs boots its appliance with a host kernel; without recommends apt does not pull one in.
ls /boot/vmlinuz-* >/dev/null 2>&1 || need+=(linux-image-amd64)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "Hangar needs these Debian packages: ${need[*]}. Install them as root (apt-get install -y ${need[*]}) and run this again." >&2
    exit 1
  fi
fi
echo "[hangar] Installing system packages: ${need[*]} (the first libguestfs install takes a few minutes)..."
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" file >/dev/null
