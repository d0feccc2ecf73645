#!/bin/bash
# install.sh -- install, upgrade, roll back or remove the toodles service (Debian/Ubuntu, systemd, root).
#
#   ./install.sh [--token-file FILE] [--source DIR]   install, or upgrade in place when already installed
#       [--canary-token-file FILE]                     also install the canary (toodles-canary.timer, every 5 min)
#       [--database-url-file FILE]                     share PostgreSQL with other instances (README: Running two VMs)
#   ./install.sh --rollback                            switch back to the previous release and restart
#   ./install.sh --uninstall [--purge]                 remove service and releases (--purge: also config,
#                                                      token, state, logs and the user)
#
# Layout:
#   /opt/toodles/releases/<version>-<time>/  one self-contained build each (dist/ + production node_modules)
#   /opt/toodles/current  -> releases/...    the running release (switched atomically with rename(2))
#   /opt/toodles/previous -> releases/...    what --rollback goes back to
#   /etc/toodles/toodles.env                 settings (created from a template only when absent)
#   /etc/toodles/commands.d/                 the team's command modules (root's; the service only reads them)
#   /etc/toodles/webex-bot-token             the token, root:root 0600, passed in via LoadCredential=
#   /etc/toodles/webex-canary-token          the canary identity's token (only with --canary-token-file)
#   /etc/toodles/database-url                the PostgreSQL URL, root:root 0600 (only with --database-url-file),
#                                            passed in by the drop-in toodles.service.d/database.conf
#   /etc/systemd/system/toodles.service      the unit (rewritten on each install/upgrade/rollback)
#   /usr/local/bin/toodles                   the operator's command (systemd/toodles-command)
#
# Building happens in a staging directory; any failure before the switch leaves the running release
# untouched. If the new release does not reach READY, install.sh switches back and restarts the old one.
# HUP/INT/TERM during the switch (a dropped SSH session, Ctrl-C) do not leave it half done: the switch
# finishes, or is undone, and the outcome goes to the journal (journalctl -t toodles-install).
# Root only downloads (npm ci --ignore-scripts) and copies. Third-party build code (tsc, the dependencies'
# install scripts, the release's load check) runs as the user toodles-build, neither the service user nor
# in its group, in a transient sandboxed service (no network, no secrets, read-only but for what it
# builds). The release is root-owned before anything runs from it, and refused if the build changed a file
# the registry delivered. Unit files come from the source tree, never from the build; nothing from a
# release ever runs as root (the operator's `toodles` drops to the service user).
# npm honours npm_config_* from the environment (e.g. npm_config_offline=true to build from the cache).
set -Eeuo pipefail
umask 022
export LC_ALL=C

PREFIX=/opt/toodles
RELEASES=$PREFIX/releases
CONF_DIR=/etc/toodles
ENV_FILE=$CONF_DIR/toodles.env
TOKEN_FILE=$CONF_DIR/webex-bot-token
UNIT=toodles.service
UNIT_FILE=/etc/systemd/system/$UNIT
SVC_USER=toodles
BUILD_USER=toodles-build                     # runs the build's third-party code (see in_build_sandbox)
BUILD_UNIT=toodles-build.service             # the transient unit it runs in, one step at a time
LOCK_DIR=/run/toodles-install                 # root-only (in /run, not the world-writable /run/lock)
RAN_MARK=.reached-ready                      # in a release dir: it once sent READY=1 (--rollback needs it)
BUILD_KEY=.build-key                         # in a release dir: what its node_modules were built for
BUILD_MODULES=$PREFIX/build-modules          # the last build's node_modules as npm delivered them, tools included (root's)
DELIVERED=$LOCK_DIR/delivered-files          # node_modules as the registry delivered them, while building
KEEP_RELEASES=${TOODLES_KEEP_RELEASES:-3}
NODE_MIN_MAJOR=20

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MODE=install
PURGE=0
TOKEN_FROM=""
CANARY_TOKEN_FROM=""
CANARY_TOKEN_FILE=$CONF_DIR/webex-canary-token
CANARY_UNITS="toodles-canary.service toodles-canary.timer"
DB_URL_FROM=""
DB_URL_FILE=$CONF_DIR/database-url
DB_DROPIN=/etc/systemd/system/$UNIT.d/database.conf
DB_URL=""
DB_SAVED=""                                   # the database settings before this run, while switching
STAGE=""
MODULES_KEY=""                                # what the new release's node_modules are for (build_key)
REUSE=""                                      # a release whose node_modules the new one reuses, if any
BUILDING=0
SWITCHING=0
INTERRUPTED=""
TOKEN=""
CANARY_TOKEN=""

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; journal err "error: $*"; exit 1; }
# what happened to the service also goes to the journal: the terminal may be gone by the end
note() { say "$*"; journal info "$*"; }
journal() { [ "$SWITCHING" = 1 ] || [ "$1" = info ] || return 0; logger -t toodles-install -p "user.$1" -- "$2" 2>/dev/null || true; }
usage() { sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

on_exit() {
  local rc=$?
  # a build step cut short (a signal, an error) must not outlive us: stopped before its tree is removed
  if [ "$BUILDING" = 1 ]; then systemctl stop "$BUILD_UNIT" 2>/dev/null || true; rm -f -- "$DELIVERED"; fi
  if [ -n "$STAGE" ] && [ -d "$STAGE" ]; then rm -rf -- "$STAGE"; fi
  if [ -n "$DB_SAVED" ]; then rm -rf -- "$DB_SAVED"; fi   # a switch that failed with nothing to go back to
  if [ $rc -ne 0 ] && [ "$MODE" = install ] && [ "$BUILDING" = 1 ]; then
    printf 'install.sh: nothing was switched; the running release (if any) is untouched\n' >&2
  fi
}
trap on_exit EXIT

# Before the switch a signal just stops (nothing changed yet). During it, the step in progress ends
# first (systemctl may die with us: then the start counts as failed) and activate() finishes the job.
on_signal() {
  if [ "$SWITCHING" != 1 ]; then die "interrupted by SIG$1"; fi
  INTERRUPTED=$1
  if [ "$1" = HUP ]; then exec >/dev/null 2>&1; fi   # the terminal is gone: writing to it would fail
}
for sig in HUP INT TERM; do trap "on_signal $sig" "$sig"; done

while [ $# -gt 0 ]; do
  case "$1" in
    --token-file) [ $# -ge 2 ] || die "--token-file needs a file"; TOKEN_FROM=$2; shift 2 ;;
    --token-file=*) TOKEN_FROM=${1#*=}; shift ;;
    --canary-token-file) [ $# -ge 2 ] || die "--canary-token-file needs a file"; CANARY_TOKEN_FROM=$2; shift 2 ;;
    --canary-token-file=*) CANARY_TOKEN_FROM=${1#*=}; shift ;;
    --database-url-file) [ $# -ge 2 ] || die "--database-url-file needs a file"; DB_URL_FROM=$2; shift 2 ;;
    --database-url-file=*) DB_URL_FROM=${1#*=}; shift ;;
    --source) [ $# -ge 2 ] || die "--source needs a directory"; SRC=$2; shift 2 ;;
    --source=*) SRC=${1#*=}; shift ;;
    --rollback) MODE=rollback; shift ;;
    --uninstall) MODE=uninstall; shift ;;
    --purge) PURGE=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[ $PURGE = 0 ] || [ $MODE = uninstall ] || die "--purge only goes with --uninstall"

# ---------------------------------------------------------------- prerequisites
[ "$(id -u)" = 0 ] || die "must run as root (try: sudo $0 $*)"
[ -d /run/systemd/system ] || die "systemd is not running as init here (/run/systemd/system is missing)"
command -v systemctl >/dev/null || die "systemctl not found"

# A directory only root can create or change, locked through a read-only descriptor: no local user can
# hold it, and nothing is ever opened for writing (or through a symlink) on the way.
take_lock() {
  [ ! -L "$LOCK_DIR" ] || die "$LOCK_DIR is a symlink; refusing to use it as the install lock (remove it)"
  mkdir -m 0700 "$LOCK_DIR" 2>/dev/null || true
  if [ ! -d "$LOCK_DIR" ] || [ -L "$LOCK_DIR" ] || [ "$(stat -c %u "$LOCK_DIR")" != 0 ]; then
    die "$LOCK_DIR is not a directory owned by root; refusing to use it as the install lock"
  fi
  chmod 0700 "$LOCK_DIR"
  exec 9<"$LOCK_DIR"
  flock -n 9 || die "another install.sh is running (lock $LOCK_DIR)"
}
take_lock

# builds killed mid-way (kill -9, power loss) leave their staging directories, and maybe a build step
# still running: nobody else uses them
remove_stale_staging() {
  local d
  systemctl stop "$BUILD_UNIT" 2>/dev/null || true
  for d in "$RELEASES"/.staging-*; do
    [ -e "$d" ] || continue
    say "removing $d (left by an interrupted build)"
    rm -rf -- "$d"
  done
}
[ "$MODE" = uninstall ] || remove_stale_staging

NODE=""
check_node() {
  NODE=$(command -v node || true)
  [ -n "$NODE" ] || die "Node.js $NODE_MIN_MAJOR or newer is required and 'node' is not on PATH (Debian: https://deb.nodesource.com, then apt-get install -y nodejs)"
  local v major
  v=$("$NODE" -p 'process.versions.node' 2>/dev/null) || die "$NODE does not run"
  major=${v%%.*}
  [ "$major" -ge $NODE_MIN_MAJOR ] 2>/dev/null || die "Node.js $NODE_MIN_MAJOR or newer is required, found $v at $NODE"
  case "$(readlink -f "$NODE")" in
    /home/*|/root/*|/run/user/*) die "node at $NODE lives under a home directory, which the service cannot see (ProtectHome=yes); install Node.js system-wide (e.g. /usr/bin/node)" ;;
  esac
}

NPM=""
# Where node's headers are (node-gyp's nodedir): the dependencies are built without network to fetch them.
NODE_HEADERS=""
find_node_headers() {
  local dir
  for dir in "$(npm config get nodedir 2>/dev/null || true)" "$(dirname "$(dirname "$(readlink -f "$NODE")")")"; do
    if [ -f "$dir/include/node/common.gypi" ]; then NODE_HEADERS=$dir; return 0; fi
  done
}

# The native toolchain only when the dependencies are built: an upgrade that reuses them needs none.
check_build_prereqs() {
  local why=() apt=()
  NPM=$(command -v npm || true)
  [ -n "$NPM" ] || why+=("npm (comes with Node.js; Debian's nodejs from nodesource includes it)")
  if [ -z "$REUSE" ]; then
    find_node_headers
    [ -n "$NODE_HEADERS" ] || why+=("Node.js headers (include/node/common.gypi beside $NODE, or npm's nodedir setting: the native build has no network to fetch them)")
    [ -e /usr/include/systemd/sd-daemon.h ] || { apt+=(libsystemd-dev); why+=("libsystemd-dev (sd-notify's native build needs systemd/sd-daemon.h)"); }
    command -v python3 >/dev/null || { apt+=(python3); why+=("python3 (node-gyp, to build sd-notify)"); }
    command -v make >/dev/null || { apt+=(make); why+=("make (node-gyp, to build sd-notify)"); }
    command -v g++ >/dev/null || { apt+=(g++); why+=("g++ (node-gyp, to build sd-notify)"); }
  fi
  if [ ${#why[@]} -gt 0 ]; then
    printf 'install.sh: error: missing prerequisites:\n' >&2
    printf '  - %s\n' "${why[@]}" >&2
    [ ${#apt[@]} -eq 0 ] || printf 'install them with: apt-get install -y %s\n' "${apt[*]}" >&2
    exit 1
  fi
}

# ---------------------------------------------------------------- helpers
current_release() { readlink "$PREFIX/current" 2>/dev/null || true; }    # "releases/<name>" or ""
previous_release() { readlink "$PREFIX/previous" 2>/dev/null || true; }

# point $PREFIX/<link> at <target> atomically: a new symlink renamed over the old one
switch_link() {
  local link=$1 target=$2 tmp="$PREFIX/.$1.tmp.$$"
  ln -sfn -- "$target" "$tmp"
  mv -T -- "$tmp" "$PREFIX/$link"
}

# $1 copied to $2 (mode ${3:-0644}) atomically, naming the node that installs where it says /usr/bin/node
copy_for_node() {
  local tmp="$2.tmp.$$"
  [ -f "$1" ] || die "$1 is missing"
  sed "s#^\(ExecStart=\|ExecReload=\|NODE=\)/usr/bin/node\( \|\$\)#\1$NODE\2#" "$1" > "$tmp"
  chmod "${3:-0644}" "$tmp"
  mv -T -- "$tmp" "$2"
}

# $1 = the tree whose systemd/ has the unit: the source tree install.sh builds from (never the build's
# staging tree, which third-party code wrote to), or on --rollback the release; $2 = unit (default: the service)
install_unit_from() {
  copy_for_node "$1/systemd/${2:-$UNIT}" "/etc/systemd/system/${2:-$UNIT}"
  systemctl daemon-reload
}

# The canary (issue 10): only with --canary-token-file, or refreshed on upgrade when already installed.
install_canary() {   # $1 = the source tree
  if [ -n "$CANARY_TOKEN" ]; then
    write_secret "$CANARY_TOKEN_FILE" "$CANARY_TOKEN"
    CANARY_TOKEN=""
    say "installed the canary token as $CANARY_TOKEN_FILE (root:root 0600)"
  elif [ ! -e "/etc/systemd/system/toodles-canary.timer" ]; then
    return 0
  fi
  local u
  for u in $CANARY_UNITS; do install_unit_from "$1" "$u"; done
  systemctl enable --now --quiet toodles-canary.timer
  say "the canary runs every 5 minutes (toodles-canary.timer); its identity must be allowed to talk to the bot"
}

# restart the unit and wait for READY=1: with Type=notify, systemctl returns only after READY=1 or
# once the start has failed. Always restart (it also starts a stopped unit): a plain start would join
# the pending start job of a release that never sends READY. Returns non-zero on failure.
START_SECS=""
start_and_wait() {
  local t0 t1
  systemctl reset-failed "$UNIT" 2>/dev/null || true
  t0=$(date +%s%N)
  if ! systemctl restart "$UNIT"; then return 1; fi
  t1=$(date +%s%N)
  START_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", (b-a)/1e9}')
  systemctl is-active --quiet "$UNIT"
}

show_failure() {
  say "the service did not become ready; its last journal lines:"
  journalctl -u "$UNIT" -n 25 --no-pager -o cat >&2 || true
}

show_status() {
  systemctl status "$UNIT" --no-pager --lines=5 || true
}

prune_releases() {
  local cur prev keep=0 r
  cur=$(basename "$(current_release)"); prev=$(basename "$(previous_release)")
  # newest first by modification time (set when a release is finished)
  while IFS= read -r r; do
    r=$(basename "$r")
    if [ "$r" = "$cur" ] || [ "$r" = "$prev" ]; then continue; fi
    keep=$((keep + 1))
    if [ $keep -gt "$KEEP_RELEASES" ]; then say "removing old release $r"; rm -rf -- "${RELEASES:?}/$r"; fi
  done < <(ls -1dt "$RELEASES"/*/ 2>/dev/null || true)
}

ensure_user() {
  if ! getent passwd "$SVC_USER" >/dev/null; then
    useradd --system --user-group --home-dir /var/lib/toodles --no-create-home \
      --shell /usr/sbin/nologin --comment "toodles Webex bot" "$SVC_USER"
    say "created system user $SVC_USER"
  fi
}

# The build's own identity: shares nothing with the service (not its user, not its group), so the code
# it runs cannot read the service's credentials, state, logs or control socket.
ensure_build_user() {
  if ! getent passwd "$BUILD_USER" >/dev/null; then
    useradd --system --user-group --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin --comment "toodles build (dependency install scripts, tsc)" "$BUILD_USER"
    say "created system user $BUILD_USER (the build runs as it)"
  fi
  if [ "$(id -u "$BUILD_USER")" = "$(id -u "$SVC_USER")" ] || id -Gn "$BUILD_USER" | tr ' ' '\n' | grep -qxF -- "$SVC_USER"; then
    die "user $BUILD_USER is user $SVC_USER or in its group; the build must not share the service's identity (remove $BUILD_USER, then run install.sh again)"
  fi
}

# $1 with surrounding white space removed, refused (naming $2) if empty or with white space inside
trimmed_token() {
  local tok=$1
  tok=${tok#"${tok%%[![:space:]]*}"}; tok=${tok%"${tok##*[![:space:]]}"}
  [ -n "$tok" ] || die "$2 is empty"
  case $tok in *[[:space:]]*) die "$2 has white space inside the token (a Webex token is one word)" ;; esac
  printf '%s' "$tok"
}

# the token in file $1 (called $2 in errors), refused when unusable
token_from_file() {
  local first=""
  [ ! -d "$1" ] || die "$2 $1 is a directory"
  [ -f "$1" ] && [ -r "$1" ] || die "cannot read $2 $1"
  IFS= read -r first < "$1" || true
  trimmed_token "$first" "$2 $1"
}

# Checked before building, so a bad token file costs nothing: sets TOKEN, CANARY_TOKEN and DB_URL.
read_token_files() {
  [ -z "$TOKEN_FROM" ] || TOKEN=$(token_from_file "$TOKEN_FROM" "token file")
  [ -z "$CANARY_TOKEN_FROM" ] || CANARY_TOKEN=$(token_from_file "$CANARY_TOKEN_FROM" "canary token file")
  [ -z "$DB_URL_FROM" ] || DB_URL=$(database_url_from_file "$DB_URL_FROM")
}

# The URL in file $1, never echoed (it holds the database password); the daemon checks the rest.
database_url_from_file() {
  local url
  url=$(token_from_file "$1" "database URL file") || exit 1   # (errexit does not hold in $(...))
  case $url in
    postgresql://*|postgres://*) printf '%s' "$url" ;;
    *) die "database URL file $1 does not hold a postgresql:// URL (one line: postgresql://user:password@host:port/database?sslmode=verify-full&sslrootcert=...)" ;;
  esac
}

write_secret() {   # $1 = file, $2 = value: root:root 0600, replaced atomically
  local tmp="$1.tmp.$$"
  ( umask 077; printf '%s\n' "$2" > "$tmp" )
  chown root:root "$tmp"; chmod 0600 "$tmp"
  mv -T -- "$tmp" "$1"
}

install_token() {
  local tok=$TOKEN
  if [ -n "$tok" ]; then
    :
  elif [ -s "$TOKEN_FILE" ]; then
    say "keeping the installed token ($TOKEN_FILE)"
    return 0
  elif [ -t 0 ] || { [ -r /dev/tty ] && (: </dev/tty) 2>/dev/null; }; then
    printf 'Webex bot token (input hidden): ' >/dev/tty
    IFS= read -rs tok </dev/tty || true
    printf '\n' >/dev/tty
    tok=$(trimmed_token "$tok" "the token entered")
  else
    die "no token installed yet: pass --token-file FILE (or run install.sh on a terminal to be prompted)"
  fi
  write_secret "$TOKEN_FILE" "$tok"
  tok=""; TOKEN=""
  say "installed the token as $TOKEN_FILE (root:root 0600)"
}

# The token goes only in $TOKEN_FILE: the daemon refuses one in the environment as well (exit 78).
check_env_file() {
  [ -f "$ENV_FILE" ] || return 0
  if grep -Eq '^[[:space:]]*(export[[:space:]]+)?WEBEX_BOT_TOKEN[[:space:]]*=[[:space:]]*[^[:space:]#]' "$ENV_FILE"; then
    die "$ENV_FILE sets WEBEX_BOT_TOKEN: remove that line; the token belongs only in $TOKEN_FILE (install.sh --token-file FILE)"
  fi
  if sets_setting TOODLES_DATABASE_URL; then
    die "$ENV_FILE sets TOODLES_DATABASE_URL: remove that line; the database URL belongs only in $DB_URL_FILE (install.sh --database-url-file FILE)"
  fi
  if { [ -n "$DB_URL" ] || [ -e "$DB_URL_FILE" ]; } && ! sets_setting TOODLES_PREFERRED_INSTANCE; then
    die "with a database URL, $ENV_FILE must set TOODLES_PREFERRED_INSTANCE (the same instance name on every VM: it answers alone while the database is away)"
  fi
}
sets_setting() { [ -f "$ENV_FILE" ] && grep -Eq "^[[:space:]]*(export[[:space:]]+)?$1[[:space:]]*=[[:space:]]*[^[:space:]#]" "$ENV_FILE"; }

# The database URL (issue 14): a root-only credential file and the drop-in that hands it to the service.
# Applied once switching has begun, so an install stopped before that changes nothing; a switch that
# fails puts the previous settings back before the old release restarts. Without --database-url-file
# an installed URL stays, and its drop-in is rewritten (an upgrade keeps the cluster).
apply_database_url() {
  [ -n "$DB_URL" ] || [ -e "$DB_URL_FILE" ] || return 0
  if [ -n "$DB_URL" ]; then
    DB_SAVED=$LOCK_DIR/saved-database
    rm -rf -- "$DB_SAVED"; mkdir -m 0700 "$DB_SAVED"
    [ ! -e "$DB_URL_FILE" ] || cp -p -- "$DB_URL_FILE" "$DB_SAVED/url"
    [ ! -e "$DB_DROPIN" ] || cp -p -- "$DB_DROPIN" "$DB_SAVED/dropin"
    write_secret "$DB_URL_FILE" "$DB_URL"
    DB_URL=""
    note "installed the database URL as $DB_URL_FILE (root:root 0600)"
  fi
  local tmp="$DB_DROPIN.tmp.$$"
  install -d -m 0755 "$(dirname "$DB_DROPIN")"
  printf '%s\n' '# Written by install.sh --database-url-file: the PostgreSQL URL, root-only, as $CREDENTIALS_DIRECTORY/database-url.' \
    '[Service]' "LoadCredential=database-url:$DB_URL_FILE" > "$tmp"
  chmod 0644 "$tmp"
  mv -T -- "$tmp" "$DB_DROPIN"
  systemctl daemon-reload
}
restore_database_url() {
  [ -n "$DB_SAVED" ] && [ -d "$DB_SAVED" ] || return 0
  if [ -e "$DB_SAVED/url" ]; then mv -T -- "$DB_SAVED/url" "$DB_URL_FILE"; else rm -f -- "$DB_URL_FILE"; fi
  if [ -e "$DB_SAVED/dropin" ]; then mv -T -- "$DB_SAVED/dropin" "$DB_DROPIN"; else rm -f -- "$DB_DROPIN"; fi
  forget_saved_database
  systemctl daemon-reload
  note "put the previous database settings back"
}
forget_saved_database() { [ -z "$DB_SAVED" ] || rm -rf -- "$DB_SAVED"; DB_SAVED=""; }

install_config() {   # $1 = the source tree
  # The service may pass through (to commands.d), never list or read what else is here.
  install -d -m 0710 -o root -g "$SVC_USER" "$CONF_DIR"
  install -d -m 0755 -o root -g root "$CONF_DIR/commands.d"
  # Settings can hold a proxy password: root's, and the service's to read (it reads them again at a reload).
  if [ -e "$ENV_FILE" ]; then
    chown root:"$SVC_USER" "$ENV_FILE"; chmod 0640 "$ENV_FILE"
    say "keeping $ENV_FILE (root:$SVC_USER 0640)"
  else
    install -m 0640 -o root -g "$SVC_USER" "$1/systemd/toodles.env.example" "$ENV_FILE"
    say "created $ENV_FILE from the template (edit it, then: toodles config check && systemctl reload toodles)"
  fi
}

# The new release checks the settings and the command modules before anything is switched, as the
# service user (a module's own code runs as it loads), with the commands dir the unit gives the daemon.
check_settings() {   # $1 = release dir
  local as=()
  if command -v setpriv >/dev/null && getent passwd "$SVC_USER" >/dev/null; then
    as=(setpriv "--reuid=$SVC_USER" "--regid=$(id -g "$SVC_USER")" --clear-groups --)
  fi
  "${as[@]}" env -i "PATH=$PATH" "TOODLES_COMMANDS_DIR=$CONF_DIR/commands.d" "$NODE" "$1/dist/src/cli.js" config check "$ENV_FILE" \
    || die "$(basename "$1") would not take $ENV_FILE or the modules in $CONF_DIR/commands.d (above); nothing was switched"
}

# /usr/local/bin/toodles: the operator's `toodles monitor` and friends, always the current release
# (through the `current` link) run by the node that installed it, never as root (systemd/toodles-command).
CMD_LINK=/usr/local/bin/toodles
CMD_MARK='# toodles command, written by install.sh'
install_command() {
  install -d -m 0755 "$(dirname "$CMD_LINK")"
  copy_for_node "$SRC/systemd/toodles-command" "$CMD_LINK" 0755
}
remove_command() {   # only ours: never an unrelated /usr/local/bin/toodles
  if grep -qxF -- "$CMD_MARK" "$CMD_LINK" 2>/dev/null; then rm -f -- "$CMD_LINK"; fi
}

# ---------------------------------------------------------------- build a release
check_source() {
  [ -f "$SRC/package.json" ] && [ -f "$SRC/package-lock.json" ] || die "$SRC is not a toodles source tree (package.json / package-lock.json missing)"
  [ -f "$SRC/systemd/$UNIT" ] || die "$SRC/systemd/$UNIT is missing"
}

build_release() {
  local name version stamp n=1
  name=$("$NODE" -p "require(process.argv[1]).name" "$SRC/package.json")
  [ "$name" = toodles ] || die "$SRC/package.json is '$name', not toodles"
  version=$("$NODE" -p "require(process.argv[1]).version" "$SRC/package.json")
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  REL_NAME="$version-$stamp"
  while [ -e "$RELEASES/$REL_NAME" ]; do n=$((n + 1)); REL_NAME="$version-$stamp-$n"; done

  install -d -m 0755 "$PREFIX" "$RELEASES"
  STAGE=$(mktemp -d "$RELEASES/.staging-XXXXXX")
  chmod 0755 "$STAGE"    # root's; the build user reads it and writes only where a step lets it
  say "building $REL_NAME from $SRC (staging in $STAGE)"
  # only what a release needs: no tests, no local node_modules/dist/logs, nothing untracked elsewhere,
  # and no .npmrc (the peer-deps setting it carries is given on the command line instead); root's own
  # files, whoever owns the source tree
  local want=() f
  for f in package.json package-lock.json tsconfig.json tsconfig.api.json src examples systemd install.sh README.md LICENSE; do
    [ -e "$SRC/$f" ] && want+=("$f")
  done
  tar -C "$SRC" --exclude=node_modules -cf - "${want[@]}" | tar -C "$STAGE" --no-same-owner --no-same-permissions -xf -
  # Each step checked on its own (errexit does not hold inside `( ... ) || die`): any failure stops here.
  fetch_build_modules
  # The compiler writes dist/ and nothing else, before any install script has run (it needs none).
  install -d -m 0755 -o "$BUILD_USER" -g "$BUILD_USER" "$STAGE/dist"
  build_step "npm run build (tsc, esbuild)" in_build_sandbox "$STAGE/dist" "$NPM" run --silent build
  own_by_root "$STAGE/dist"
  [ -f "$STAGE/dist/src/cli.js" ] || die "build produced no dist/src/cli.js"
  if [ -n "$REUSE" ]; then
    rm -rf -- "$STAGE/node_modules"
    # Hard links, not the directory itself: the old release stays whole for a rollback, and nothing
    # writes to these root-owned files once they are linked.
    cp -al -- "$REUSE/node_modules" "$STAGE/node_modules"
    say "reused the production node_modules of $(basename "$REUSE") (same package-lock.json, node and architecture)"
  else
    build_dependencies
  fi
  # Loaded by the build user in the sandbox: root never runs what the build made.
  in_build_sandbox "" "$NODE" -e 'require(process.argv[1])' "$STAGE/node_modules/sd-notify" \
    || die "sd-notify does not load in the built release"
  in_build_sandbox "" "$NODE" -e 'new (require(process.argv[1]))(":memory:").close()' "$STAGE/node_modules/better-sqlite3" \
    || die "better-sqlite3 does not load in the built release"
  printf '%s\n' "$MODULES_KEY" > "$STAGE/$BUILD_KEY"
  own_by_root "$STAGE"
  mv -T -- "$STAGE" "$RELEASES/$REL_NAME"
  STAGE=""
  touch "$RELEASES/$REL_NAME"
}

# The build's node_modules (the compiler and esbuild among them) as the registry delivered them: root only
# fetches, npm runs no package script. An upgrade that reuses the running release's production
# node_modules links them from the last build's copy when package-lock.json is unchanged: they only
# serve the build, read-only, and are gone before anything else touches the release. Any other build
# fetches them, and keeps a copy (not links: its node_modules are handed to the build user next).
fetch_build_modules() {
  local lock
  lock=$(sha256sum < "$STAGE/package-lock.json" | cut -d' ' -f1)
  if [ -n "$REUSE" ] && [ -d "$BUILD_MODULES/node_modules" ] && [ "$(cat -- "$BUILD_MODULES/lock" 2>/dev/null)" = "$lock" ]; then
    cp -al -- "$BUILD_MODULES/node_modules" "$STAGE/node_modules"
    say "linked the build's node_modules from the last build (same package-lock.json)"
    return
  fi
  build_step "npm ci" npm ci --ignore-scripts --legacy-peer-deps --no-audit --no-fund --loglevel=error
  rm -rf -- "$BUILD_MODULES"
  install -d -m 0700 "$BUILD_MODULES"
  cp -a -- "$STAGE/node_modules" "$BUILD_MODULES/node_modules"
  printf '%s\n' "$lock" > "$BUILD_MODULES/lock"
}

# The production dependencies with their install scripts run, as the build user. npm prunes as root
# before any of their code has run (pruning runs none). The scripts may add their own build/ output;
# a file the registry delivered that they changed stops the install.
build_dependencies() {
  local departure
  build_step "npm prune" npm prune --omit=dev --no-save --ignore-scripts --legacy-peer-deps --no-audit --no-fund --loglevel=error
  delivered_files "$STAGE" > "$DELIVERED"
  chown -R "$BUILD_USER:$BUILD_USER" "$STAGE/node_modules"
  build_step "npm rebuild (dependency install scripts)" in_build_sandbox "$STAGE/node_modules" "$NPM" rebuild --loglevel=error
  own_by_root "$STAGE/node_modules"
  departure=$(delivered_files "$STAGE" | departure_from "$DELIVERED")
  rm -f -- "$DELIVERED"
  [ -z "$departure" ] || die "the build $departure; refusing this release (a dependency's install script did it)"
}

# root's, and read-only to everyone else: what the build made, before anything runs from it
own_by_root() { chown -R root:root -- "$1"; chmod -R u+rwX,go+rX,go-w -- "$1"; }

# Every file, link and special file under $1/node_modules, a line each: its sha256 (a link: "link:" and
# its target; else "special"), two spaces, its path.
delivered_files() (
  cd "$1"
  find node_modules -type f -print0 | xargs -0r sha256sum --
  find node_modules -type l -printf '%p\0%l\0' | while IFS= read -r -d '' path && IFS= read -r -d '' target; do
    printf 'link:%q  %q\n' "$target" "$path"
  done
  find node_modules ! -type d ! -type f ! -type l -printf 'special  %p\n'
)

# How the built node_modules (a delivered_files listing on stdin) depart from what the registry delivered
# (the listing in $1), if they do: a delivered file changed, a special file, or anything added outside a
# package's own new build/ directory (where native builds put their output). Removed files are fine.
departure_from() {
  awk -v delivered="$1" '
    function parse(line) { i = index(line, "  "); digest = substr(line, 1, i - 1); path = substr(line, i + 2) }
    function build_dir(p) { return match(p, /^(.*\/)?node_modules\/(@[^\/]+\/)?[^\/]+\/build\//) ? substr(p, 1, RLENGTH) : "" }
    BEGIN { while ((getline line < delivered) > 0) { parse(line); was[path] = digest; b = build_dir(path); if (b != "") shipped[b] = 1 } }
    found != "" { next }
    { parse($0) }
    path in was { if (was[path] != digest) found = "changed " path ", which the registry delivered"; next }
    digest == "special" { found = "left a special file, " path; next }
    { b = build_dir(path); if (b == "" || b in shipped) found = "added " path ", outside a build/ directory of its own package" }
    END { if (found != "") print found }
  '
}

# Runs "$@" as $BUILD_USER in a transient service, the sandbox of the build's third-party code: the file
# system read-only but for $1 (a staging directory the build user owns, or "" for none), no network
# (root's npm ci fetched everything), no home, the service's credentials, state, logs and socket out of
# reach, no privilege to gain, and whatever it leaves running killed with it. Its output comes through a
# pipe, never root's terminal; its exit status is the command's. A step still running after 20 min (a
# from-scratch native build takes ~2 min here) is killed: a hung install script must not hang install.sh.
in_build_sandbox() {
  local writable=$1 v; shift
  local run=(systemd-run --quiet --wait --pipe --collect --service-type=exec "--unit=$BUILD_UNIT"
    -p "User=$BUILD_USER" -p "Group=$BUILD_USER" -p "WorkingDirectory=$STAGE" -p UMask=0022
    -p ProtectSystem=strict -p ProtectHome=yes -p PrivateTmp=yes -p PrivateDevices=yes -p PrivateNetwork=yes
    -p PrivateIPC=yes -p NoNewPrivileges=yes -p CapabilityBoundingSet= -p RestrictSUIDSGID=yes -p RemoveIPC=yes
    -p ProtectProc=invisible -p ProtectKernelTunables=yes -p ProtectKernelModules=yes -p ProtectKernelLogs=yes
    -p ProtectControlGroups=yes -p ProtectClock=yes -p ProtectHostname=yes -p RestrictNamespaces=yes
    -p LockPersonality=yes -p RestrictRealtime=yes -p KeyringMode=private -p KillSignal=SIGKILL -p RuntimeMaxSec=1200
    -p "InaccessiblePaths=-$CONF_DIR -/var/lib/toodles -/var/log/toodles -/run/toodles -/run/credentials -$LOCK_DIR"
    -E "PATH=$(dirname "$NODE"):$(dirname "$NPM"):/usr/local/bin:/usr/bin:/bin" -E HOME=/tmp -E LC_ALL=C
    -E npm_config_cache=/tmp/npm-cache -E npm_config_update_notifier=false)
  [ -z "$writable" ] || run+=(-p "ReadWritePaths=$writable")
  [ -z "$NODE_HEADERS" ] || run+=(-E "npm_config_nodedir=$NODE_HEADERS")
  # the operator's npm settings, as root's npm honours them (e.g. npm_config_foreground_scripts=true)
  while IFS= read -r v; do run+=(-E "$v=${!v}"); done < <(compgen -e | grep -i '^npm_config_' | grep -ivx 'npm_config_cache\|npm_config_nodedir' || true)
  "${run[@]}" -- "$@" </dev/null | cat
}

# What the production node_modules depend on: the lockfile, node's version (native addons' ABI) and the machine.
# ("built by" tells them from node_modules an older install.sh let the service user build: never reused.)
build_key() { printf 'lock %s node %s built by %s\n' "$(sha256sum < "$1/package-lock.json" | cut -d' ' -f1)" "$("$NODE" -p 'process.version + " " + process.platform + "-" + process.arch')" "$BUILD_USER"; }

# The running release's directory when its node_modules were built for key $1 (else nothing): an
# upgrade that changes only our code then skips the native builds, the slow part of an install.
reusable_modules() {
  local cur
  cur=$(current_release)
  [ -n "$cur" ] && [ -d "$PREFIX/$cur/node_modules" ] && [ -f "$PREFIX/$cur/$BUILD_KEY" ] || return 0
  [ "$(cat -- "$PREFIX/$cur/$BUILD_KEY")" = "$1" ] && printf '%s' "$PREFIX/$cur"
  return 0
}

# run one build step in the staging directory; on failure stop with its name (npm printed the why)
build_step() {
  local what=$1; shift
  ( cd "$STAGE" && "$@" ) || die "build failed at $what (see its output above)"
}

# The release in $1 ("releases/<name>") has sent READY=1: recorded for --rollback.
mark_ran() { [ -z "$1" ] || [ ! -d "$PREFIX/$1" ] || touch "$PREFIX/$1/$RAN_MARK"; }

# switch current -> $1 (and previous -> what was current), install the unit from $2 (see
# install_unit_from), restart and wait for READY; on failure (or HUP/INT/TERM meanwhile) switch
# everything back, restart the old release and fail. The outcome is in the journal (journalctl -t
# toodles-install) either way.
activate() {
  local target="releases/$1" old old_prev failed
  old=$(current_release); old_prev=$(previous_release)
  # the release running now has run, whether or not an older install.sh recorded it
  if [ -n "$old" ] && systemctl is-active --quiet "$UNIT"; then mark_ran "$old"; fi
  SWITCHING=1
  note "switching to $1${old:+ from $(basename "$old")}"
  apply_database_url
  switch_link current "$target"
  if [ -n "$old" ] && [ "$old" != "$target" ]; then switch_link previous "$old"; fi
  install_unit_from "$2"
  systemctl enable --quiet "$UNIT"
  if start_and_wait; then
    mark_ran "$target"
    note "toodles $1 is running (systemctl restart returned after READY=1, ${START_SECS}s)${INTERRUPTED:+; SIG$INTERRUPTED came meanwhile, the switch was complete}"
    forget_saved_database
    SWITCHING=0
    return 0
  fi
  trap '' HUP INT TERM    # nothing stops the way back (systemctl inherits this)
  if [ -n "$INTERRUPTED" ]; then note "interrupted by SIG$INTERRUPTED while $1 was starting"; else show_failure; fi
  failed="$1 did not start"
  [ -z "$INTERRUPTED" ] || failed="the switch to $1 was interrupted (SIG$INTERRUPTED)"
  if [ -n "$old" ] && [ "$old" != "$target" ] && [ -d "$PREFIX/$old" ]; then
    note "switching back to $(basename "$old")"
    restore_database_url
    switch_link current "$old"
    if [ -n "$old_prev" ]; then switch_link previous "$old_prev"; else rm -f "$PREFIX/previous"; fi
    install_unit_from "$PREFIX/$old"
    if start_and_wait; then
      MODE=done
      die "$failed; $(basename "$old") is running again"
    fi
    show_failure
    MODE=done
    die "$failed, and $(basename "$old") did not start either after switching back"
  fi
  MODE=done
  [ -z "$INTERRUPTED" ] || die "$failed before it was ready; to start it: systemctl restart toodles"
  die "$failed; fix the cause above (settings: $ENV_FILE), then: systemctl restart toodles"
}

# ---------------------------------------------------------------- modes
do_install() {
  check_node
  check_source
  MODULES_KEY=$(build_key "$SRC")
  REUSE=$(reusable_modules "$MODULES_KEY")
  check_build_prereqs
  read_token_files
  check_env_file
  if [ -z "$(current_release)" ] && [ -z "$TOKEN_FROM" ] && [ ! -s "$TOKEN_FILE" ] && ! { [ -t 0 ] || (: </dev/tty) 2>/dev/null; }; then
    die "no token installed yet: pass --token-file FILE (or run install.sh on a terminal to be prompted)"
  fi
  BUILDING=1
  ensure_user
  ensure_build_user
  build_release                          # everything up to here leaves the running release alone
  install_config "$SRC"
  install_token
  check_settings "$RELEASES/$REL_NAME"
  MODE=switching
  activate "$REL_NAME" "$SRC"
  install_command
  install_canary "$SRC"
  prune_releases
  show_status
}

do_rollback() {
  check_node
  local cur prev
  cur=$(current_release)
  [ -n "$cur" ] || die "toodles is not installed ($PREFIX/current is missing)"
  prev=$(previous_release)
  if [ -z "$prev" ] || [ ! -d "$PREFIX/$prev" ]; then
    # no recorded previous release: take the newest other one that has run
    prev=$(ls -1dt "$RELEASES"/*/ 2>/dev/null | sed 's#/$##' | while IFS= read -r r; do
      [ "releases/$(basename "$r")" = "$cur" ] || [ ! -e "$r/$RAN_MARK" ] || { echo "releases/$(basename "$r")"; break; }; done)
  fi
  [ -n "$prev" ] && [ -d "$PREFIX/$prev" ] || die "no previous release to roll back to"
  [ -f "$PREFIX/$prev/dist/src/cli.js" ] || die "$PREFIX/$prev is incomplete (no dist/src/cli.js)"
  [ -e "$PREFIX/$prev/$RAN_MARK" ] || die "$(basename "$prev") has never run (it never reached READY); not rolling back to it"
  check_env_file
  say "rolling back from $(basename "$cur") to $(basename "$prev")"
  MODE=switching
  activate "$(basename "$prev")" "$PREFIX/$prev"
  install_command
  show_status
}

do_uninstall() {
  if systemctl cat "$UNIT" >/dev/null 2>&1; then
    say "stopping and disabling $UNIT"
    systemctl disable --now --quiet "$UNIT" || true
  fi
  local u
  for u in $CANARY_UNITS; do
    if [ -e "/etc/systemd/system/$u" ]; then
      systemctl disable --now --quiet "$u" 2>/dev/null || true
      rm -f -- "/etc/systemd/system/$u"
      say "removed $u"
    fi
  done
  rm -f -- "$UNIT_FILE"
  if [ -e "$DB_DROPIN" ] || [ -e "$DB_URL_FILE" ]; then
    rm -f -- "$DB_DROPIN" "$DB_URL_FILE"
    rmdir -- "$(dirname "$DB_DROPIN")" 2>/dev/null || true
    say "removed the database URL ($DB_URL_FILE) and its drop-in"
  fi
  [ $PURGE = 1 ] && rm -rf -- "/etc/systemd/system/$UNIT.d"
  systemctl daemon-reload
  systemctl reset-failed "$UNIT" 2>/dev/null || true
  rm -rf -- "$PREFIX"
  remove_command
  say "removed the service, $PREFIX and $CMD_LINK"
  if [ $PURGE = 1 ]; then
    rm -rf -- "$CONF_DIR" /var/lib/toodles /var/log/toodles
    local user
    for user in "$SVC_USER" "$BUILD_USER"; do
      if getent passwd "$user" >/dev/null; then userdel "$user" 2>/dev/null || say "could not remove user $user"; fi
      getent group "$user" >/dev/null && groupdel "$user" 2>/dev/null || true
    done
    say "purged $CONF_DIR, /var/lib/toodles, /var/log/toodles and the users $SVC_USER and $BUILD_USER"
  else
    say "kept $CONF_DIR (settings, token), /var/lib/toodles, /var/log/toodles and the users $SVC_USER and $BUILD_USER (--purge removes them)"
  fi
}

case $MODE in
  install) do_install ;;
  rollback) do_rollback ;;
  uninstall) do_uninstall ;;
esac
