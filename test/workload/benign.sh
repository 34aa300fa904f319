#!/usr/bin/env bash
# A benign node workload: what a normal Kubernetes node and its operators do in a few seconds.
# The default rules must raise no alert on it (test/workload/benign.test.ts runs it under the agent).
#
#   benign.sh WORKDIR
#
# Everything happens in WORKDIR, below /var/log/lanner-benign-$$ and in a cgroup it creates; all of
# it is removed at the end, also on failure. Network: 127.0.0.1 only. Needs root (dpkg, cgroups).
# Each step prints "step: NAME" on stderr so a failure names the step.
set -euo pipefail

WORK=${1:?usage: benign.sh WORKDIR}
mkdir -p "$WORK"
LOGDIR=/var/log/lanner-benign-$$
PKG=lanner-benign-hello
CGROUP=""
CGROUP_ROOT=""
SERVER_PID=""

cleanup() {
  set +e
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  dpkg --purge "$PKG" >/dev/null 2>&1
  rm -rf "$LOGDIR"
  if [ -n "$CGROUP" ] && [ -d "$CGROUP" ]; then
    # Move anything left back to the root cgroup before removing ours.
    while read -r pid; do echo "$pid" >"$CGROUP_ROOT/cgroup.procs"; done <"$CGROUP/cgroup.procs"
    rmdir "$CGROUP" "$(dirname "$CGROUP")" 2>/dev/null
  fi
}
trap cleanup EXIT

step() { echo "step: $1" >&2; }

# --- a package install with dpkg: a tiny .deb built here (no network) ------------------------------
step "dpkg install"
mkdir -p "$WORK/deb/DEBIAN" "$WORK/deb/usr/share/$PKG" "$WORK/deb/usr/bin"
cat >"$WORK/deb/DEBIAN/control" <<EOF
Package: $PKG
Version: 1.0
Architecture: all
Maintainer: Lanner tests <tests@localhost>
Description: benign workload package for Lanner's default-rules test
EOF
echo "hello from a package" >"$WORK/deb/usr/share/$PKG/hello.txt"
printf '#!/bin/sh\ncat /usr/share/%s/hello.txt\n' "$PKG" >"$WORK/deb/usr/bin/$PKG"
chmod 0755 "$WORK/deb/usr/bin/$PKG"
dpkg-deb --root-owner-group --build "$WORK/deb" "$WORK/$PKG.deb" >/dev/null
dpkg -i "$WORK/$PKG.deb" >/dev/null
"$PKG" >/dev/null
dpkg -r "$PKG" >/dev/null

# --- a C build ------------------------------------------------------------------------------------
step "C build"
mkdir -p "$WORK/cbuild"
for i in 1 2 3 4 5 6; do
  printf 'int f%d(int x) { return x * %d; }\n' "$i" "$i" >"$WORK/cbuild/f$i.c"
done
printf 'int f1(int);\nint main(void) { return f1(0); }\n' >"$WORK/cbuild/main.c"
cat >"$WORK/cbuild/Makefile" <<'EOF'
OBJS := $(patsubst %.c,%.o,$(wildcard *.c))
prog: $(OBJS)
	$(CC) -o $@ $(OBJS)
%.o: %.c
	$(CC) -O1 -c -o $@ $<
EOF
make -s -j2 -C "$WORK/cbuild" >/dev/null
"$WORK/cbuild/prog"

# --- a git clone of a local repository ------------------------------------------------------------
step "git clone"
export GIT_CONFIG_NOSYSTEM=1 HOME="$WORK/home"
mkdir -p "$HOME"
git init -q "$WORK/origin"
echo "readme" >"$WORK/origin/README"
git -C "$WORK/origin" add README
git -C "$WORK/origin" -c user.name=t -c user.email=t@localhost commit -qm init
git clone -q "file://$WORK/origin" "$WORK/clone"
git -C "$WORK/clone" log --oneline >/dev/null

# --- a Python HTTP server answering requests on 127.0.0.1 ----------------------------------------
step "python http.server"
mkdir -p "$WORK/www"
echo "<h1>ok</h1>" >"$WORK/www/index.html"
PORT=${BENIGN_HTTP_PORT:-8080}
python3 -m http.server --bind 127.0.0.1 --directory "$WORK/www" "$PORT" >/dev/null 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$PORT/" >/dev/null 2>&1 && break
  sleep 0.1
done
for _ in 1 2 3 4 5; do curl -fsS "http://127.0.0.1:$PORT/index.html" >/dev/null; done
python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/').read()"

# --- cron-like jobs: small scheduled scripts run by a shell --------------------------------------
step "cron-like jobs"
mkdir -p "$WORK/cron.hourly" "$WORK/data" "$WORK/backup"
echo "data" >"$WORK/data/a.txt"
cat >"$WORK/cron.hourly/backup" <<EOF
#!/bin/sh
tar -czf "$WORK/backup/data-\$(date +%H%M%S).tar.gz" -C "$WORK" data
EOF
cat >"$WORK/cron.hourly/cleanup" <<EOF
#!/bin/sh
find "$WORK/backup" -name '*.tar.gz' -mmin +60 -delete
df -h / >/dev/null
EOF
chmod +x "$WORK"/cron.hourly/*
for job in "$WORK"/cron.hourly/*; do sh -c "$job"; done

# --- log rotation, as logrotate's "create" mode does it ------------------------------------------
step "log rotation"
mkdir -p "$LOGDIR"
for i in $(seq 1 20); do echo "line $i" >>"$LOGDIR/app.log"; done
mv "$LOGDIR/app.log" "$LOGDIR/app.log.1"
gzip -f "$LOGDIR/app.log.1"
touch "$LOGDIR/app.log"
chmod 0640 "$LOGDIR/app.log"
echo "after rotation" >>"$LOGDIR/app.log"

# --- a container-like process tree in its own cgroup ---------------------------------------------
step "container-like process tree"
for root in /sys/fs/cgroup/unified /sys/fs/cgroup; do
  if [ "$(stat -f -c %T "$root" 2>/dev/null)" = cgroup2fs ]; then
    CGROUP_ROOT=$root
    break
  fi
done
if [ -z "$CGROUP_ROOT" ]; then
  echo "no cgroup v2 hierarchy: skipping the container-like step" >&2
else
  ID=$(printf 'lanner%.0s' 1 2 3 4 5 6 7 8 9 10 11 | sha256sum | cut -c1-64)
  CGROUP="$CGROUP_ROOT/lanner-benign-$$/cri-containerd-$ID.scope"
  mkdir -p "$CGROUP"
  # The "container": an entrypoint shell that runs a small service tree, as a pod would.
  sh -c '
    echo $$ >"$1/cgroup.procs"
    cat /etc/os-release >/dev/null
    ls / >/dev/null
    python3 -c "import os, json; json.dumps(dict(os.environ)); open(\"/tmp/lanner-benign-'$$'.tmp\", \"w\").write(\"x\")"
    curl -fsS "http://127.0.0.1:$2/" >/dev/null
    (sleep 0.2; true) &
    wait
    rm -f /tmp/lanner-benign-'$$'.tmp
  ' container "$CGROUP" "$PORT"
fi

step "done"
