"""Per-phase GPU energy: the agent's report against pynvml's readings at the same boundaries.

Truth: the GPU's energy counter, each value placed at the first instant the child saw it (2 ms
polling), gives each update period's exact energy; within a period, energy is shared out by the
child's instantaneous power samples (1 ms), so that a boundary inside a period gets the energy of
the instants on either side of it rather than a straight line between updates. Phases that repeat
under one name (the training-loop rhythm) are compared as the sum over their instances.
Usage: compare_phases.py report.json app.log poll.txt
"""
import bisect
import json
import re
import statistics
import sys
from collections import OrderedDict

report, log, poll = sys.argv[1:4]
r = json.load(open(report))
agent = {p["name"]: p["joules"]["gpu"] for p in r["phases"]}
updates, samples = [], []
for line in open(poll):
    f = line.split()
    if len(f) == 3 and f[0] == "E":
        updates.append((int(f[1]), int(f[2]) / 1000))
    elif len(f) == 3 and f[0] == "P":
        samples.append((int(f[1]), int(f[2]) / 1000))
ut = [t for t, _ in updates]
pt = [t for t, _ in samples]
# cumulative trapezoid integral of the power samples, for the shape within each update period
shape = [0.0]
for i in range(1, len(samples)):
    (t0, w0), (t1, w1) = samples[i - 1], samples[i]
    shape.append(shape[-1] + 0.5 * (w0 + w1) * (t1 - t0) * 1e-9)


def shape_at(t):
    i = bisect.bisect_right(pt, t)
    if i == 0:
        return 0.0
    if i == len(samples):
        return shape[-1]
    (t0, w0), (t1, w1) = samples[i - 1], samples[i]
    w = w0 + (w1 - w0) * (t - t0) / (t1 - t0)
    return shape[i - 1] + 0.5 * (w0 + w) * (t - t0) * 1e-9


def energy_at(t):
    i = bisect.bisect_right(ut, t)
    if i == 0:
        return updates[0][1]
    if i == len(updates):
        return updates[-1][1]
    (t0, e0), (t1, e1) = updates[i - 1], updates[i]
    whole = shape_at(t1) - shape_at(t0)
    part = shape_at(t) - shape_at(t0)
    f = part / whole if whole > 0 else (t - t0) / (t1 - t0)
    return e0 + (e1 - e0) * f


truth = OrderedDict()
for m in re.finditer(r"^PHASE (\S+) (\d+) (\d+)$", open(log).read(), re.M):
    name, t_open, t_close = m.group(1), int(m.group(2)), int(m.group(3))
    truth[name] = truth.get(name, 0.0) + energy_at(t_close) - energy_at(t_open)

errors = OrderedDict()
for name, joules in truth.items():
    if name not in agent or joules <= 0:
        continue
    kind = name.split("-")[0] if re.search(r"-r\d+$", name) else name
    errors.setdefault(kind, []).append(agent[name] / joules - 1)

print(f"{'phases':>12} {'n':>4} {'median |err|':>13} {'worst |err|':>12}")
for kind, e in errors.items():
    e = [abs(x) for x in e]
    print(f"{kind:>12} {len(e):>4} {statistics.median(e) * 100:12.2f}% {max(e) * 100:11.2f}%")
gpu = sum(d["joules"] for d in r["devices"] if d["domain"] == "gpu")
phases = sum(p["joules"]["gpu"] for p in r["phases"])
print(f"conservation: phases {phases:.1f} J, devices {gpu:.1f} J (attribution=host)")
