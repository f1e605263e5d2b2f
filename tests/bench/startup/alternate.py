#!/usr/bin/env python3
"""Times whole processes, alternating between commands, and prints medians and ratios.

    alternate.py [--runs N] [--time-limit S] [--run-limit S] [--out DIR]
                 [--ratio A/B]... [--goal EXPR]... NAME=COMMAND...

Each round runs every COMMAND once, in the order given, so that a slow moment of a shared
machine falls on all of them alike; RUNS rounds are made (default 30), fewer if TIME_LIMIT
seconds (default 120) pass first. A command is split like a shell line (shlex, no
expansion) and started with posix_spawn, stdin /dev/null, stdout and stderr to
DIR/NAME.out (the last run's) or /dev/null. Wall time is taken around posix_spawn and
wait4; CPU time (user + system) and minor page faults come from wait4's rusage of the
child alone. A run that outlives RUN_LIMIT seconds (default 10) is killed.

Every run must exit 0 (or with the status given as NAME:STATUS=COMMAND); one that does not
is reported with its output and makes the script exit 1, since its time would measure a
failure. --ratio A/B prints median(A) / median(B); --goal checks one of
"NAME <= 5ms" or "NAME <= 0.2*OTHER" on the medians and prints met or MISSED (a missed
goal is reported, not an error: the figures depend on the machine).
"""
import argparse
import os
import re
import shlex
import signal
import statistics
import sys
import time


def parse_commands(specs):
    out = []
    for spec in specs:
        name, sep, command = spec.partition('=')
        if not sep or not name or not command.strip():
            sys.exit(f'alternate: expected NAME=COMMAND, not {spec!r}')
        expected = 0
        if ':' in name:
            name, status = name.split(':', 1)
            expected = int(status)
        argv = shlex.split(command)
        out.append((name, argv, expected))
    return out


class run_timeout(Exception):
    pass


def run_once(argv, out_path, run_limit):
    """(wall ms, cpu ms, minor faults, exit status) of one run of argv."""
    fd = os.open(out_path or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    null_in = os.open(os.devnull, os.O_RDONLY)
    actions = [(os.POSIX_SPAWN_DUP2, null_in, 0), (os.POSIX_SPAWN_DUP2, fd, 1), (os.POSIX_SPAWN_DUP2, fd, 2)]
    try:
        start = time.perf_counter_ns()
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)

        def kill(*_):
            os.kill(pid, signal.SIGKILL)
            raise run_timeout()

        previous = signal.signal(signal.SIGALRM, kill)
        signal.setitimer(signal.ITIMER_REAL, run_limit)
        try:
            _, status, usage = os.wait4(pid, 0)
        except run_timeout:
            os.wait4(pid, 0)
            return None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        wall = (time.perf_counter_ns() - start) / 1e6
    finally:
        os.close(fd)
        os.close(null_in)
    cpu = (usage.ru_utime + usage.ru_stime) * 1e3
    return wall, cpu, usage.ru_minflt, os.waitstatus_to_exitcode(status)


def check_goal(goal, medians):
    m = re.fullmatch(r'\s*([\w.-]+)\s*<=\s*(?:([\d.]+)\s*ms|([\d.]+)\s*\*\s*([\w.-]+))\s*', goal)
    if not m:
        sys.exit(f'alternate: cannot read goal {goal!r}')
    name = m.group(1)
    if name not in medians:
        sys.exit(f'alternate: goal {goal!r} names no command')
    if m.group(2):
        limit, what = float(m.group(2)), f'{m.group(2)} ms'
    else:
        other = m.group(4)
        if other not in medians:
            sys.exit(f'alternate: goal {goal!r} names no command')
        limit = float(m.group(3)) * medians[other]
        what = f'{m.group(3)} × {other} = {limit:.2f} ms'
    value = medians[name]
    return f'| {name} ≤ {what} | {value:.2f} ms | {"met" if value <= limit else "MISSED"} |'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--runs', type=int, default=30)
    ap.add_argument('--time-limit', type=float, default=120)
    ap.add_argument('--run-limit', type=float, default=10)
    ap.add_argument('--out', default='')
    ap.add_argument('--ratio', action='append', default=[])
    ap.add_argument('--goal', action='append', default=[])
    ap.add_argument('commands', nargs='+')
    a = ap.parse_args()
    commands = parse_commands(a.commands)
    for name, argv, _ in commands:
        if not os.access(argv[0], os.X_OK):
            sys.exit(f'alternate: {name}: {argv[0]} is not an executable path')

    samples = {name: [] for name, _, _ in commands}
    failed = False
    deadline = time.monotonic() + a.time_limit
    rounds = 0
    while rounds < a.runs and time.monotonic() < deadline and not failed:
        for name, argv, expected in commands:
            out_path = os.path.join(a.out, name + '.out') if a.out else ''
            r = run_once(argv, out_path, a.run_limit)
            if r is None or r[3] != expected:
                what = 'did not finish' if r is None else f'exited {r[3]}, not {expected}'
                print(f'alternate: {name} {what}: {shlex.join(argv)}', file=sys.stderr)
                if out_path:
                    with open(out_path, errors='replace') as f:
                        sys.stderr.write(f.read()[-2000:])
                failed = True
                break
            samples[name].append(r)
        rounds += 1

    if failed:
        return 1
    medians = {n: statistics.median(s[0] for s in v) for n, v in samples.items()}
    print(f'{rounds} alternating rounds')
    print()
    print('| command | wall ms (median) | min | max | CPU ms (median) | minor faults |')
    print('|---|---|---|---|---|---|')
    for name, _, _ in commands:
        v = samples[name]
        walls = [s[0] for s in v]
        print(f'| {name} | {medians[name]:.2f} | {min(walls):.2f} | {max(walls):.2f} | '
              f'{statistics.median(s[1] for s in v):.2f} | {statistics.median(s[2] for s in v):.0f} |')
    if a.ratio:
        print()
        print('| ratio of medians | |')
        print('|---|---|')
        for r in a.ratio:
            x, _, y = r.partition('/')
            if x not in medians or y not in medians:
                sys.exit(f'alternate: ratio {r!r} names no command')
            print(f'| {x} / {y} | {medians[x] / medians[y]:.2f} |')
    if a.goal:
        print()
        print('| goal | median | |')
        print('|---|---|---|')
        for g in a.goal:
            print(check_goal(g, medians))
    return 0


if __name__ == '__main__':
    sys.exit(main())
