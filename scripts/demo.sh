#!/usr/bin/env bash
# The demonstration, run inside the VM by `make demo`: build the test
# topology (client, front server, two back-end servers in network namespaces),
# start nginx on the servers, load handoff and show its state.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/selftests/lib.sh"
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "kernel $(uname -r), handoff.ko from $HANDOFF_KO"
topo_setup
say "topology: client c, front f, back-ends b1 b2 (network namespaces)"
for h in c f b1 b2; do
  printf '  %-3s %s\n' "$h" "$(in_ns "$h" ip -br -4 addr show | awk '$1!="lo"{printf "%s %s  ", $1, $3}')"
done
echo "  VIP $VIP on lo of f, b1, b2; the client routes it via f (10.0.1.2)"

say "nginx on every server"
for h in f b1 b2; do
  d=$HANDOFF_TMP/nginx-$h
  mkdir -p "$d"
  echo "served by $h" > "$d/index.html"
  head -c 20000000 /dev/zero > "$d/big"  # outlasts socket buffers at 50 kB/s
  cat > "$d/nginx.conf" <<CONF
daemon on; pid $d/nginx.pid; error_log $d/error.log;
events { worker_connections 256; }
http { access_log off; client_body_temp_path $d; proxy_temp_path $d; fastcgi_temp_path $d;
       uwsgi_temp_path $d; scgi_temp_path $d;
       server { listen 80; root $d; } }
CONF
  in_ns "$h" nginx -c "$d/nginx.conf" -e "$d/error.log" && echo "  nginx up in $h"
done

say "load handoff"
module_load && echo "  $(grep -h . /sys/module/handoff/initstate) (refcnt $(cat /sys/module/handoff/refcnt))"
dmesg | grep -E 'handoff' | tail -3 | sed 's/^/  dmesg: /'

say "handoff service add $VIP:80 dev eth0  (on the front server f)"
ho f service add "$VIP:80" dev eth0
ho f service show | sed 's/^/  /'

say "client -> VIP: the module answers the SYN, then injects the connection into f's stack"
for i in 1 2 3; do in_ns c curl -s --max-time 5 "http://$VIP/" | sed 's/^/  /'; done
echo "  a slow download keeps one connection open:"
in_ns c curl -s -o /dev/null --limit-rate 50k --max-time 4 "http://$VIP/big" &
sleep 1.5
ho f conn show | sed 's/^/  temporary table: /'
in_ns f ss -tin state established '( sport = :80 )' | sed 's/^/  /'
wait

say "handoff -s stats (front server)"
ho f stats | sed 's/^global //' | tr ' ' '\n' | paste -d' ' - - | awk '$2 != 0' | sed 's/^/  /'

say "the module's KUnit suites ran at load:"
debugfs_mount
for s in /sys/kernel/debug/kunit/handoff*; do
  printf '  %s: %s\n' "$(basename "$s")" "$(grep -E '^ok|^not ok' "$s/results" | tail -1)"
done
for h in f b1 b2; do in_ns "$h" sh -c "kill \$(cat $HANDOFF_TMP/nginx-$h/nginx.pid)" 2>/dev/null; done
say "done. Next: migration to the back-ends b1/b2 (see README.md)"
