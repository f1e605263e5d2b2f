# tests/lab/lib.sh — shared bash helpers for the loopback lab. Source it; every function
# prints errors to stderr and returns non-zero (lab_die exits).
#
#   lab_die MSG                      print "lab: MSG" and exit 1
#   lab_free_port [udp|tcp|both]     a port on 127.0.0.1 free for that protocol (default both)
#   lab_assign_port VAR [PROTO]      VAR=free port (kept when already set), distinct from the
#                                    ports assigned before in this shell
#   lab_start BASE CMD…              run CMD in its own session, output to BASE.log, PID to BASE.pid
#   lab_wait_tcp BASE HOST PORT SECS wait until HOST:PORT accepts TCP; die (with BASE.log) if
#                                    the process exits or SECS pass
#   lab_wait_udp_bound BASE PORT SECS  wait until something is bound to UDP 127.0.0.1:PORT
#   lab_stop BASE                    stop the process in BASE.pid (TERM, then KILL), remove the file
#   lab_require CMD [PACKAGE]        die with an install hint unless CMD is installed
#   lab_make_ca DIR                  DIR/ca.key + DIR/ca.crt (a throwaway test CA), once
#   lab_make_cert DIR NAME SANS      DIR/NAME.key + DIR/NAME.crt signed by the CA, SANS as for
#                                    openssl subjectAltName (e.g. "DNS:sip.test,IP:127.0.0.1");
#                                    LAB_CERT_DAYS=-1 makes one that has expired
#   lab_make_self_signed DIR NAME SANS  the same, signed by its own key (no CA vouches for it)
# Traffic stays on 127.0.0.1: nothing here listens on or sends to any other address.

lab_die() {
  echo "lab: $*" >&2
  exit 1
}

lab_port_in_use() {  # PROTO PORT — any socket on it, listening or not
  local proto=$1 port=$2 flag
  case $proto in udp) flag=-uan ;; tcp) flag=-tan ;; esac
  ss "$flag" "sport = :$port" 2>/dev/null | tail -n +2 | grep -q .
}

lab_free_port() {
  local proto=${1:-both} port i
  # Below the kernel's ephemeral range (ip_local_port_range, 32768+ by default), so a
  # client socket of a test running alongside cannot take the port between pick and bind.
  local low=20000 high
  high=$(awk '{print $1 - 1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32767)
  ((high > low)) || high=32767
  for i in $(seq 1 200); do
    port=$((low + RANDOM % (high - low)))
    case $proto in
      udp) lab_port_in_use udp "$port" && continue ;;
      tcp) lab_port_in_use tcp "$port" && continue ;;
      *) { lab_port_in_use udp "$port" || lab_port_in_use tcp "$port"; } && continue ;;
    esac
    [[ " ${LAB_PORTS_GIVEN:-} " == *" $port "* ]] && continue
    echo "$port"
    return 0
  done
  lab_die "no free port found on 127.0.0.1"
}

# lab_assign_port VAR [udp|tcp|both] — sets VAR to a free port unless VAR is already set
# (from the environment), never to one handed out before in this shell.
lab_assign_port() {
  local var=$1 port
  if [[ -z "${!var:-}" ]]; then
    port=$(lab_free_port "${2:-both}")
    printf -v "$var" '%s' "$port"
  fi
  LAB_PORTS_GIVEN="${LAB_PORTS_GIVEN:-} ${!var}"
}

lab_start() {
  local base=$1
  shift
  setsid "$@" >"$base.log" 2>&1 </dev/null &
  echo $! >"$base.pid"
}

lab_pid_running() {  # PID — alive and not a zombie waiting to be reaped
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ "$state" != Z && "$state" != X ]]
}

lab_alive() {  # BASE
  [[ -f "$1.pid" ]] && lab_pid_running "$(cat "$1.pid")"
}

lab_wait_tcp() {
  local base=$1 host=$2 port=$3 secs=$4 i
  for i in $(seq 1 $((secs * 20))); do
    lab_alive "$base" || lab_die "$(basename "$base") exited during start-up: $(tail -5 "$base.log" | tr '\n' ' ')"
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && return 0
    sleep 0.05
  done
  lab_die "$(basename "$base") did not listen on $host:$port within ${secs}s: $(tail -5 "$base.log" | tr '\n' ' ')"
}

lab_wait_udp_bound() {
  local base=$1 port=$2 secs=$3 i
  for i in $(seq 1 $((secs * 20))); do
    lab_alive "$base" || lab_die "$(basename "$base") exited during start-up: $(tail -5 "$base.log" | tr '\n' ' ')"
    lab_port_in_use udp "$port" && return 0
    sleep 0.05
  done
  lab_die "$(basename "$base") did not bind UDP port $port within ${secs}s"
}

lab_stop() {
  local base=$1 pid i
  [[ -f "$base.pid" ]] || return 0
  pid=$(cat "$base.pid")
  if lab_pid_running "$pid"; then
    # The process leads its own session (setsid): signal the whole group, children too.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
      lab_pid_running "$pid" || break
      sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$base.pid"
}

lab_make_ca() {
  local dir=$1
  [[ -f "$dir/ca.crt" ]] && return 0
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=sipprobe lab CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" >/dev/null 2>&1 || lab_die "openssl could not make the test CA"
}

lab_make_cert() {
  local dir=$1 name=$2 sans=$3
  [[ -f "$dir/$name.crt" ]] && return 0
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$(cut -d, -f1 <<<"$sans" | cut -d: -f2)" -keyout "$dir/$name.key" \
    -out "$dir/$name.csr" >/dev/null 2>&1 || lab_die "openssl could not make a key for $name"
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$sans" >"$dir/$name.ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -days "${LAB_CERT_DAYS:-365}" -extfile "$dir/$name.ext" -out "$dir/$name.crt" >/dev/null 2>&1 ||
    lab_die "openssl could not sign the certificate for $name"
}

lab_make_self_signed() {
  local dir=$1 name=$2 sans=$3
  [[ -f "$dir/$name.crt" ]] && return 0
  openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=$(cut -d, -f1 <<<"$sans" | cut -d: -f2)" \
    -addext "subjectAltName=$sans" -keyout "$dir/$name.key" -out "$dir/$name.crt" >/dev/null 2>&1 ||
    lab_die "openssl could not make the self-signed certificate $name"
}

# lab_require CMD PACKAGE — die with an install hint unless CMD is installed (also looks in
# /usr/sbin, which is not in every user's PATH: dnsmasq, kamailio live there).
lab_require() {
  command -v "$1" >/dev/null 2>&1 || [[ -x "/usr/sbin/$1" ]] ||
    lab_die "$1 is not installed (apt-get install ${2:-$1}; scripts/setup installs the lab)"
}
