# tests/bench/lib/accounts.sh — the generated accounts the benchmarks register (sourced).
#   bench_accounts WORK USERS
# writes into WORK:
#   accounts.txt  one "user password" line per account: userNNNNN / pwNNNNN-SALT (SALT: 8
#                 random letters per run), distinct passwords, nothing to quote anywhere
#   users.cfg     the Kamailio include (EXTRA_USERS_FILE of tests/lab/kamailio/start) that
#                 fills the lab registrar's htable with them
#   users.csv     the same accounts as a sipprobe CSV (aor,password) for 127.0.0.1
bench_accounts() {
  local work=$1 users=$2 salt
  salt=$(tr -dc 'a-z' </dev/urandom 2>/dev/null | head -c 8 || true)
  [[ ${#salt} == 8 ]] || salt=benchpwx
  awk -v n="$users" -v salt="$salt" 'BEGIN { for (i = 1; i <= n; i++) printf "user%05d pw%05d-%s\n", i, i, salt }' \
    >"$work/accounts.txt"
  # Kamailio keeps its route actions in each process's private memory (the lab starts it
  # with -M 8): 10,000 assignment lines do not fit ("could not allocate private memory"), so
  # the include file fills the htable with a loop. A while loop stops after
  # max_while_loops (100) rounds: three nested loops of at most 10 × 100 × 100.
  cat >"$work/users.cfg" <<CFG
  # sipprobe benchmark accounts (tests/bench/lib/accounts.sh): user00001…user$(printf %05d "$users")
  \$var(hi) = 0;
  while (\$var(hi) * 10000 < $users) {
    \$var(mid) = 0;
    while (\$var(mid) < 100) {
      \$var(lo) = 0;
      while (\$var(lo) < 100) {
        \$var(n) = \$var(hi) * 10000 + \$var(mid) * 100 + \$var(lo) + 1;
        if (\$var(n) <= $users) {
          \$var(p) = "" + (100000 + \$var(n));
          \$var(d) = \$(var(p){s.substr,1,0});
          \$sht(users=>user\$var(d)) = "pw" + \$var(d) + "-$salt";
        }
        \$var(lo) = \$var(lo) + 1;
      }
      \$var(mid) = \$var(mid) + 1;
    }
    \$var(hi) = \$var(hi) + 1;
  }
CFG
  { echo "aor,password"; awk '{ printf "sip:%s@127.0.0.1,%s\n", $1, $2 }' "$work/accounts.txt"; } >"$work/users.csv"
}
