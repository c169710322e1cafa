#!/usr/bin/env python3
"""Restart downtime: voxctl restart vs the reference app's flow (stop, sleep 1 s, start).

Downtime is measured from the outside, as a client sees it: a poller GETs the health URL
about every millisecond; downtime = first healthy answer from the new backend minus the
last healthy answer from the old one. The new backend's own start-up time (spawn to first
healthy answer, measured by starting it directly on another port) is subtracted to get the
overhead of the swap itself. Usage: restart_downtime.py VOXCTL FIXTURE RUNS
"""
import json, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, threading, time

voxctl, fixture, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
tmp = tempfile.mkdtemp(prefix="voxctl-bench-")
state, data = os.path.join(tmp, "state"), os.path.join(tmp, "data")
os.makedirs(os.path.join(data, "backends"))
bins = {}
for v in ("cpu", "cuda"):
    bins[v] = os.path.join(data, "backends", f"voicebox-server-{v}")
    shutil.copy(fixture, bins[v])
env = dict(os.environ, VOXCTL_STATE_DIR=state)


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def probe(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            raw = b""
            while chunk := s.recv(4096):
                raw += chunk
        if not raw.startswith(b"HTTP/1.1 200"):
            return None
        return json.loads(raw.split(b"\r\n\r\n", 1)[1])["backend_variant"]
    except (OSError, ValueError, KeyError):
        return None


class Poller(threading.Thread):
    """Polls until `want` answers; records the last time `old` answered and the first `want`."""
    def __init__(self, port, old, want):
        super().__init__(daemon=True)
        self.port, self.old, self.want = port, old, want
        self.last_old = self.first_new = None
        self.ready = threading.Event()

    def run(self):
        while True:
            v = probe(self.port)
            t = time.perf_counter()
            if v == self.old:
                self.last_old = t
                self.ready.set()
            elif v == self.want and self.last_old is not None:
                self.first_new = t
                return
            time.sleep(0.001)

    def downtime_ms(self):
        return (self.first_new - self.last_old) * 1000


def startup_ms(variant):
    port = free_port()
    t0 = time.perf_counter()
    p = subprocess.Popen([bins[variant], "--data-dir", data, "--port", str(port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while probe(port) != variant:
        time.sleep(0.0005)
    t = (time.perf_counter() - t0) * 1000
    p.terminate(); p.wait()
    return t


def voxctl_restart(port, variant):
    subprocess.run([voxctl, "-q", "restart", "--variant", variant, "--data-dir", data,
                    "--port", str(port)], env=env, check=True, stdout=subprocess.DEVNULL)


def measure_voxctl(port, old, new):
    poll = Poller(port, old, new); poll.start(); poll.ready.wait()
    voxctl_restart(port, new)
    poll.join(10)
    return poll.downtime_ms()


def measure_reference(port, proc, old, new):
    """The reference app: kill the backend, sleep 1 s, start the new one."""
    poll = Poller(port, old, new); poll.start(); poll.ready.wait()
    proc.terminate(); proc.wait()
    time.sleep(1)
    nproc = subprocess.Popen([bins[new], "--data-dir", data, "--port", str(port)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    poll.join(10)
    return poll.downtime_ms(), nproc


def summary(xs):
    return f"median {statistics.median(xs):7.1f} ms  min {min(xs):7.1f}  max {max(xs):7.1f}"


try:
    start = [startup_ms("cuda") for _ in range(runs)]
    port = free_port()
    voxctl_restart(port, "cpu")
    vox, old = [], "cpu"
    for _ in range(runs):
        new = "cuda" if old == "cpu" else "cpu"
        vox.append(measure_voxctl(port, old, new))
        old = new
    with open(os.path.join(state, "backend.json")) as f:
        os.killpg(json.load(f)["pid"], signal.SIGTERM)
    while probe(port):
        time.sleep(0.001)
    ref_port = free_port()
    proc = subprocess.Popen([bins["cpu"], "--data-dir", data, "--port", str(ref_port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ref, old = [], "cpu"
    for _ in range(min(runs, 5)):
        new = "cuda" if old == "cpu" else "cpu"
        d, proc = measure_reference(ref_port, proc, old, new)
        ref.append(d)
        old = new
    proc.terminate(); proc.wait()
    s = statistics.median(start)
    print(f"new backend start-up (spawn to healthy): {summary(start)}")
    print(f"voxctl restart downtime:                 {summary(vox)}")
    print(f"reference stop/sleep 1s/start downtime:  {summary(ref)}")
    over_v = [d - s for d in vox]
    over_r = [d - s for d in ref]
    print(f"voxctl overhead (downtime - start-up):   {summary(over_v)}  target < 50 ms: "
          f"{'met' if max(over_v) < 50 else 'MISSED'} (max)")
    print(f"reference overhead:                      {summary(over_r)}")
    print(f"ratio reference/voxctl downtime (median): "
          f"{statistics.median(ref) / statistics.median(vox):.1f}x")
finally:
    try:
        with open(os.path.join(state, "backend.json")) as f:
            os.killpg(json.load(f)["pid"], signal.SIGKILL)
    except (OSError, ValueError):
        pass
    shutil.rmtree(tmp, ignore_errors=True)
