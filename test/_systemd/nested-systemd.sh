#!/bin/bash
# nested-systemd.sh -- boot a real systemd as PID 1 of fresh pid/mount/uts/ipc/net/cgroup namespaces,
# with a copy-on-write overlay of the host's / as its root, for toodles' end-to-end tests.
# Adapted from ../shared/recipes/nested-systemd-watchdog-demo.sh (the host's PID 1 is not systemd).
#
#   nested-systemd.sh up   DIR [--owner-pid PID] [--bind PATH]... [--share-net]
#       boots; DIR (empty, created by the caller) keeps the state; prints "up <seconds>" when
#       `systemctl is-system-running` says running/degraded. With --owner-pid a detached guard tears
#       everything down as soon as PID exits (so a killed test leaves nothing behind).
#       --bind PATH: PATH is bind-mounted read-only at the same place inside (needed for anything
#       under /tmp or outside the root file system; the overlay shows only the root fs).
#   nested-systemd.sh exec DIR -- CMD...   run CMD inside (all namespaces, clean root environment)
#   nested-systemd.sh down DIR             power off, kill leftovers by pid, remove the cgroup, rm DIR
#
# Writes inside stay in a tmpfs upper layer that vanishes with the mount namespace; the host is not
# modified except DIR and one cgroup2 directory (removed by `down`). Needs root, overlayfs, cgroup2,
# util-linux (unshare, nsenter, setpriv) and bsdutils (script).
set -euo pipefail
export LC_ALL=C
ME=$(readlink -f "${BASH_SOURCE[0]}")

die() { printf 'nested-systemd: %s\n' "$*" >&2; exit 1; }
pid_of() { cat "$1/$2.pid" 2>/dev/null || true; }
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

write_inner() {
cat > "$1/inner.sh" <<'EOF'
#!/bin/bash
# PID 1 of the new namespaces: build the root, then exec systemd.
set -euo pipefail
W="$1"; CONSOLE_TTY="$2"; BINDS="$3"
mkdir -p "$W/ovl"
mount -t tmpfs -o mode=755 toodles-ovl "$W/ovl"                  # upper layer: only in this mount ns
mkdir -p "$W/ovl/upper" "$W/ovl/work" "$W/ovl/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$W/ovl/upper,workdir=$W/ovl/work" "$W/ovl/root"
R="$W/ovl/root"
mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
mount --bind "$R/proc/sys" "$R/proc/sys"; mount -o remount,bind,ro "$R/proc/sys"   # no global sysctl writes
if [ -e "$R/proc/sysrq-trigger" ]; then mount --bind "$R/proc/sysrq-trigger" "$R/proc/sysrq-trigger"; mount -o remount,bind,ro "$R/proc/sysrq-trigger"; fi
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"                             # ro: no udev, no host devices
mount -t tmpfs -o mode=755,nosuid dev "$R/dev"                                      # private minimal /dev
for n in "null 1 3" "zero 1 5" "full 1 7" "random 1 8" "urandom 1 9" "tty 5 0"; do set -- $n; mknod -m 666 "$R/dev/$1" c "$2" "$3"; done
mkdir -p "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"; ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"; ln -s /proc/self/fd/1 "$R/dev/stdout"; ln -s /proc/self/fd/2 "$R/dev/stderr"
touch "$R/dev/console"; mount --bind "$CONSOLE_TTY" "$R/dev/console"              # script(1)'s pty -> console.log
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs "$R/run"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/tmp"        # else tmpfiles' "D /tmp" whiteouts the host's /tmp
IFS=: read -r -a binds <<<"$BINDS"
for b in "${binds[@]}"; do
  [ -n "$b" ] || continue
  mkdir -p "$R$b"; mount --bind "$b" "$R$b"; mount -o remount,bind,ro "$R$b"
done
E="$R/etc/systemd/system"
printf '[Unit]\nDescription=toodles test boot target\nRequires=basic.target\nAfter=basic.target\nAllowIsolate=yes\n' > "$E/toodles-test.target"
# host units that must not run in the nested instance (masked in the overlay only)
for u in postgresql.service getty@tty1.service console-getty.service systemd-timesyncd.service systemd-pstore.service \
  e2scrub_reap.service apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer man-db.timer \
  systemd-sysctl.service systemd-modules-load.service systemd-remount-fs.service systemd-binfmt.service \
  proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount systemd-hwdb-update.service ldconfig.service \
  systemd-firstboot.service systemd-random-seed.service; do ln -sf /dev/null "$E/$u"; done
rm -f "$E/toodles.service"; rm -rf "$E/toodles.service.d"        # in case the host has one installed
echo toodles-test > "$R/etc/hostname"
cd "$R"; mkdir -p .oldroot; pivot_root . .oldroot
# systemd skips making / shared when container= is set; without shared propagation LoadCredential=
# silently yields an empty credentials directory.
exec /usr/sbin/chroot . /bin/sh -c 'umount -l /.oldroot && rmdir /.oldroot && mount --make-rshared /
  exec env -i container=toodles-test TERM=dumb \
    setpriv --bounding-set -sys_time,-sys_module,-wake_alarm,-sys_rawio \
    /lib/systemd/systemd --unit=toodles-test.target systemd.unified_cgroup_hierarchy=1' </dev/console >/dev/console 2>&1
EOF
chmod +x "$1/inner.sh"
}

cmd_up() {
  local W=$1; shift
  local owner="" share=0 binds=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --owner-pid) owner=$2; shift 2 ;;
      --bind) binds="$binds:$(readlink -f "$2")"; shift 2 ;;
      --share-net) share=1; shift ;;
      *) die "up: unknown option $1" ;;
    esac
  done
  [ -d "$W" ] || die "up: $W is not a directory"
  [ "$(id -u)" = 0 ] || die "needs root"
  [ -x /lib/systemd/systemd ] || die "systemd is not installed (/lib/systemd/systemd)"
  for c in unshare nsenter setpriv script findmnt; do command -v $c >/dev/null || die "missing $c (util-linux / bsdutils)"; done
  grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || die "no overlayfs"
  local t0 cg2 name ns sd state
  t0=$(date +%s%N)
  cg2=$(findmnt -rn -t cgroup2 -o TARGET | head -1)
  [ -n "$cg2" ] || die "no cgroup2 hierarchy mounted on the host"
  name=$(basename "$W")
  mkdir "$cg2/$name"
  echo "$cg2/$name" > "$W/cgroup"
  write_inner "$W"
  local netns=--net; [ $share = 1 ] && netns=
  if [ -n "$owner" ]; then
    # detached guard: tears down when the owner dies (its own session, survives the caller)
    setsid bash "$ME" guard "$W" "$owner" </dev/null >/dev/null 2>&1 &
    echo $! > "$W/guard.pid"
  fi
  # script(1) gives systemd a console (a pty logged to console.log); the inner bash joins the cgroup
  # first, so systemd's cgroup namespace root is $cg2/$name.
  script -qfec "bash -c 'echo \$\$ > $cg2/$name/cgroup.procs; echo \$\$ > $W/ns.pid; exec unshare --pid --fork --kill-child --mount --uts --ipc $netns --cgroup $W/inner.sh $W \$(tty) \"$binds\"'" \
    "$W/console.log" </dev/null >/dev/null 2>&1 &
  echo $! > "$W/script.pid"
  for _ in $(seq 200); do
    ns=$(pid_of "$W" ns)
    [ -n "$ns" ] && sd=$(awk '{print $1}' "/proc/$ns/task/$ns/children" 2>/dev/null) && [ -n "$sd" ] && break
    sleep 0.05
  done
  [ -n "${sd:-}" ] || { cat -v "$W/console.log" >&2; die "nested init did not start"; }
  echo "$sd" > "$W/sd.pid"
  state=""
  for _ in $(seq 600); do
    state=$(cmd_exec "$W" systemctl is-system-running 2>/dev/null || true)
    case "$state" in running|degraded) break ;; esac
    alive "$ns" || { cat -v "$W/console.log" >&2; die "nested systemd died during boot"; }
    sleep 0.1
  done
  case "$state" in running|degraded) ;; *) cat -v "$W/console.log" >&2; die "boot did not finish (state=$state)" ;; esac
  if [ "$state" = degraded ]; then cmd_exec "$W" systemctl --failed --no-pager >&2 || true; fi
  awk -v a="$t0" -v b="$(date +%s%N)" -v s="$state" 'BEGIN{printf "up %.2f %s\n", (b-a)/1e9, s}'
}

cmd_exec() {
  local W=$1; shift
  [ "${1:-}" = -- ] && shift
  local sd; sd=$(pid_of "$W" sd)
  alive "$sd" || die "exec: nested systemd is not running"
  nsenter -t "$sd" -m -u -i -n -p -C -r -w -- \
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        TERM=dumb SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"
}

cmd_down() {
  local W=$1 sd ns sc guard cg
  [ -d "$W" ] || return 0
  set +e
  sd=$(pid_of "$W" sd); ns=$(pid_of "$W" ns); sc=$(pid_of "$W" script); guard=$(pid_of "$W" guard)
  if alive "$sd"; then
    timeout 20 nsenter -t "$sd" -m -u -i -n -p -C -r -w -- systemctl poweroff --no-block >/dev/null 2>&1
    for _ in $(seq 100); do alive "$ns" || break; sleep 0.1; done
  fi
  alive "$ns" && kill -KILL "$ns"            # --kill-child takes systemd and its whole pid namespace down
  for _ in $(seq 50); do alive "$sd" || break; sleep 0.1; done
  if alive "$sc"; then kill -TERM "$sc"; for _ in $(seq 50); do alive "$sc" || break; sleep 0.1; done; fi
  cg=$(cat "$W/cgroup" 2>/dev/null)
  if [ -n "$cg" ] && [ -d "$cg" ]; then
    for _ in $(seq 50); do find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null; [ -d "$cg" ] || break; sleep 0.1; done
    [ -d "$cg" ] && echo "nested-systemd: could not remove cgroup $cg" >&2
  fi
  [ -n "${KEEP_CONSOLE:-}" ] && cp "$W/console.log" "$KEEP_CONSOLE" 2>/dev/null
  rm -rf "$W"
  # last: the guard may be the caller of this function
  if [ -n "$guard" ] && [ "$guard" != "$$" ] && alive "$guard"; then kill -TERM "$guard"; fi
  return 0
}

cmd_guard() {
  local W=$1 owner=$2
  trap '' HUP INT
  trap 'exit 0' TERM
  while kill -0 "$owner" 2>/dev/null && [ -d "$W" ]; do sleep 1; done
  trap '' TERM
  cmd_down "$W"
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  exec) shift; cmd_exec "$@" ;;
  down) shift; cmd_down "$@" ;;
  guard) shift; cmd_guard "$@" ;;
  *) die "usage: nested-systemd.sh up|exec|down DIR ..." ;;
esac
