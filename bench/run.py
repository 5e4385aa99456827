#!/usr/bin/python3
"""Issue 15's bench: parley-load against parley-server and against ngIRCd, side by side in one run.

Builds nothing (run it after `cmake --build --preset dev`); installs Debian's ngircd with apt when it is
missing. Each figure is the median of --runs runs (default 3), the servers taking turns run by run so that
a noisy minute of the machine hits both. Prints a Markdown table of the figures and their ratios, and with
--json FILE writes every run's parley-load summary.

A second table puts the reference server's transports side by side: the same relay workload through
parley-server itp (plain TCP), securechat (JSON over WebSocket) and sslmessager (TLS, one MSG per receiver,
one record per line), each started by parley-load --launch. --transports runs that table alone (no ngIRCd
needed).

usage: bench/run.py [--runs N] [--bin DIR] [--quick] [--only TEXT] [--json FILE] [--transports]
"""
import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, what):
    for _ in range(200):
        if proc.poll() is not None:
            sys.exit(f"bench: {what} exited with status {proc.returncode} before it listened")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"bench: {what} did not listen on {port} within 10 s")


def ensure_ngircd():
    if shutil.which("ngircd") or os.path.exists("/usr/sbin/ngircd"):
        return shutil.which("ngircd") or "/usr/sbin/ngircd"
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(sudo + ["apt-get", "update"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(sudo + ["apt-get", "install", "-y", "ngircd"], check=True, env=env, stdout=subprocess.DEVNULL)
    # The package starts a system daemon on 6667; the bench runs its own.
    subprocess.run(sudo + ["systemctl", "stop", "ngircd"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return shutil.which("ngircd") or "/usr/sbin/ngircd"


def ngircd_config(directory, port):
    """A server for the bench alone: loopback only, no limits on connections, and penalties (ngIRCd's flood
    control, which delays a client's next command after each one) off with MaxPenaltyTime = 0 (ngIRCd 26)."""
    path = os.path.join(directory, "ngircd.conf")
    motd = os.path.join(directory, "motd")
    with open(motd, "w") as f:
        f.write("bench\n")
    with open(path, "w") as f:
        f.write(f"""[Global]
Name = bench.parley.invalid
Info = parley bench
Listen = 127.0.0.1
Ports = {port}
MotdFile = {motd}
PidFile = {os.path.join(directory, "ngircd.pid")}
[Limits]
MaxConnections = 0
MaxConnectionsIP = 0
MaxJoins = 0
MaxNickLength = 16
MaxPenaltyTime = 0
PingTimeout = 600
PongTimeout = 120
[Options]
DNS = no
Ident = no
PAM = no
""")
    return path


class Server:
    """One server under test, started afresh for every run."""

    def __init__(self, label, protocol, command):
        self.label, self.protocol, self.command = label, protocol, command

    def __enter__(self):
        self.port = free_port()
        argv = [part.replace("{port}", str(self.port)) for part in self.command(self)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_listening(self.port, self.proc, self.label)
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def load(binary, protocol, target, args, label):
    """One parley-load run and its JSON summary; `target` is --target/--pid or --launch. A run with a failure
    or a delivery error ends the bench: its figures would mean nothing."""
    out = subprocess.run([binary, protocol, *target, "--quiet", "--json", "-", *args],
                         capture_output=True, text=True, timeout=900)
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    if summary["failure"] or summary["errors"]:
        sys.exit(f"bench: {label} {' '.join(args)}: {summary['failure'] or summary['error_samples']}\n" + out.stdout)
    return summary


WORKLOADS = [
    # (name, parley-load arguments, the figures reported). The windows are large enough that neither server
    # waits on the load tool: ngIRCd handles a client's commands a few at a time per turn of its loop, so a
    # small window measures that loop, not the relay (fan-out, 50 clients: 152,000/s at window 16, 730,000 at
    # window 1,000). Latency grows with the window (it is mostly queueing); both servers get the same one.
    ("fan-out, 50 clients", ["--mode", "fanout", "--clients", "50", "--messages", "40000", "--window", "1000"],
     "rate"),
    ("all-to-all, 50 clients", ["--mode", "all-to-all", "--clients", "50", "--messages", "800", "--window", "64"],
     "rate"),
    ("fan-out, 1,000 clients", ["--mode", "fanout", "--clients", "1000", "--messages", "2000", "--window", "1000"],
     "rate"),
    ("all-to-all, 1,000 clients", ["--mode", "all-to-all", "--clients", "1000", "--messages", "4", "--window", "2"],
     "rate"),
    ("round trip, 1 client", ["--mode", "rtt", "--clients", "1", "--messages", "20000"], "rtt"),
    ("10,000 idle connections, half logged in", ["--mode", "hold", "--clients", "10000", "--hold-seconds", "2",
                                                 "--timeout", "600"], "rss"),
]


TRANSPORT_WORKLOADS = [
    ("fan-out, 50 clients", ["--mode", "fanout", "--clients", "50", "--messages", "4000", "--window", "256"]),
    ("all-to-all, 50 clients", ["--mode", "all-to-all", "--clients", "50", "--messages", "200", "--window", "64"]),
]


def transports_table(parley_load, parley_server, runs, only):
    """itp over TCP against securechat over WebSocket and sslmessager over TLS: the rate, and the server's and
    parley-load's CPU per delivery (TLS costs the load tool much as it costs the server: it seals every MSG
    and opens every RELAY)."""
    servers = [("itp (TCP)", "itp", f"'{parley_server}' itp --port {{port}}"),
               ("securechat (WebSocket)", "securechat", f"'{parley_server}' securechat --port {{port}} --keys {{keys}}"),
               ("sslmessager (TLS)", "sslmessager",
                f"'{parley_server}' sslmessager --port {{port}} --cert {{cert}} --key {{key}} --users {{users}}")]
    workloads = [w for w in TRANSPORT_WORKLOADS if not only or only in w[0]]
    results = {}
    for name, extra in workloads:
        for run in range(runs):
            for label, protocol, command in servers:
                summary = load(parley_load, protocol, ["--launch", command], extra, label)
                results.setdefault((name, label), []).append(summary)
                print(f"bench: {name}, {label}, run {run + 1}: {summary['per_second']:.0f}/s", file=sys.stderr)
    tcp = servers[0][0]
    others = [label for label, _, _ in servers[1:]]
    lines = [f"| workload | {tcp} | " + " | ".join(f"{o} | {o.split()[0]} / itp" for o in others) + " |",
             "|---|---|" + "---|---|" * len(others)]
    for name, _ in workloads:
        pick = lambda label, f: statistics.median(f(s) for s in results[(name, label)])
        figures = [("deliveries/s", lambda s: s["per_second"], "{:,.0f}"),
                   ("server CPU per delivery", lambda s: s["target_cpu_seconds"] * 1e6 / s["delivered"], "{:.2f} us"),
                   ("parley-load CPU per delivery", lambda s: s["load_cpu_seconds"] * 1e6 / s["delivered"], "{:.2f} us")]
        for what, f, form in figures:
            base = pick(tcp, f)
            row = f"| {name}: {what} | {form.format(base)} | "
            row += " | ".join(f"{form.format(pick(o, f))} | {pick(o, f) / base:.2f}x" for o in others)
            lines.append(row + " |")
    return lines, results


def report(lines, results, what, json_path):
    """The table with the machine and date above it, and every run's summary in `json_path` if given."""
    print(f"parley bench, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {what}")
    print("\n".join(lines))
    if json_path:
        with open(json_path, "w") as f:
            json.dump({f"{k[0]} / {k[1]}": v for k, v in results.items()}, f, indent=1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bin", default=os.environ.get("PARLEY_BIN", os.path.join(HERE, "..", "build", "dev", "bin")))
    parser.add_argument("--quick", action="store_true", help="the 50-client workloads only, one run")
    parser.add_argument("--json")
    parser.add_argument("--only", help="the workloads whose name contains this text")
    parser.add_argument("--transports", action="store_true", help="only the table of the transports (itp, securechat, sslmessager)")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # 10,000 connections, inherited by the servers

    parley_load = os.path.join(args.bin, "parley-load")
    parley_server = os.path.join(args.bin, "parley-server")
    for program in (parley_load, parley_server):
        if not os.access(program, os.X_OK):
            sys.exit(f"bench: {program} is not built (cmake --preset dev && cmake --build --preset dev)")
    if args.transports:
        runs = 1 if args.quick else args.runs
        lines, results = transports_table(parley_load, parley_server, runs, args.only)
        report(lines, results, f"medians of {runs}, texts of 64 bytes", args.json)
        return
    ngircd = ensure_ngircd()
    version = subprocess.run([ngircd, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    scratch = tempfile.mkdtemp(prefix="parley-bench-")

    servers = [
        Server("parley-server itp", "itp",
               # Limits up for 10,000 connections from one address, and a login timeout longer than the
               # hold's login storm (every itp login is announced to every user: 12.5 million JOINED lines
               # for 5,000 users, as ngIRCd announces every JOIN).
               lambda s: [parley_server, "itp", "--port", "{port}", "--max-connections", "20000",
                          "--max-per-address", "20000", "--login-timeout", "900000"]),
        Server("ngIRCd", "irc", lambda s: [ngircd, "--nodaemon", "--config", ngircd_config(scratch, s.port)]),
    ]
    workloads = WORKLOADS[:2] if args.quick else WORKLOADS
    if args.only:
        workloads = [w for w in workloads if args.only in w[0]]
    runs = 1 if args.quick else args.runs
    results = {}
    for name, extra, kind in workloads:
        for run in range(runs):
            for server in servers:
                with server:
                    summary = load(parley_load, server.protocol, ["--target", f"127.0.0.1:{server.port}", "--pid",
                                                                  str(server.proc.pid)], extra, server.label)
                results.setdefault((name, server.label), []).append(summary)
                print(f"bench: {name}, {server.label}, run {run + 1}: {summary['per_second']:.0f}/s, "
                      f"p99 {summary['latency_us']['p99']:.0f} us, RSS {summary['target_rss_kib']} KiB",
                      file=sys.stderr)

    def median(name, label, pick):
        return statistics.median(pick(s) for s in results[(name, label)])

    ours, theirs = servers[0].label, servers[1].label
    lines = [f"| workload | {ours} | {theirs} | ratio |", "|---|---|---|---|"]
    for name, extra, kind in workloads:
        if kind == "rate":
            a = median(name, ours, lambda s: s["per_second"])
            b = median(name, theirs, lambda s: s["per_second"])
            lines.append(f"| {name}: deliveries/s | {a:,.0f} | {b:,.0f} | {a / b:.2f}x |")
            a = median(name, ours, lambda s: s["latency_us"]["p99"])
            b = median(name, theirs, lambda s: s["latency_us"]["p99"])
            lines.append(f"| {name}: p99 latency | {a:,.0f} us | {b:,.0f} us | {a / b:.2f}x |")
            cpu = lambda s: s["target_cpu_seconds"] * 1e6 / s["delivered"]
            a, b = median(name, ours, cpu), median(name, theirs, cpu)
            lines.append(f"| {name}: server CPU per delivery | {a:.2f} us | {b:.2f} us | {a / b:.2f}x |")
        elif kind == "rtt":
            for q in ("p50", "p99"):
                a = median(name, ours, lambda s: s["latency_us"][q])
                b = median(name, theirs, lambda s: s["latency_us"][q])
                lines.append(f"| {name}: {q} | {a:,.0f} us | {b:,.0f} us | {a / b:.2f}x |")
        else:
            a = median(name, ours, lambda s: s["rss_per_connection_kib"])
            b = median(name, theirs, lambda s: s["rss_per_connection_kib"])
            lines.append(f"| {name}: RSS per connection | {a:.1f} KiB | {b:.1f} KiB | {a / b:.2f}x |")
    report(lines, results, f"medians of {runs}, {version}, itp and IRC texts of 64 bytes", args.json)
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
