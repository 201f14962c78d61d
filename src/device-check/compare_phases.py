"""Per-phase GPU energy: the agent's report against pynvml's counter at the same boundaries.

Truth: the child's poll of the GPU's energy counter, each value placed at the first instant it was
seen (2 ms polling), interpolated linearly at each phase's open and close instants.
Usage: compare_phases.py report.json app.log poll.txt
"""
import bisect
import json
import re
import statistics
import sys

report, log, poll = sys.argv[1:4]
r = json.load(open(report))
agent = {p["name"]: p["joules"]["gpu"] for p in r["phases"]}
pts = [tuple(map(int, line.split())) for line in open(poll) if line.strip()]
ts = [t for t, _ in pts]


def energy_at(t):
    i = bisect.bisect_right(ts, t)
    if i == 0:
        return pts[0][1] / 1000
    if i == len(pts):
        return pts[-1][1] / 1000
    (t0, e0), (t1, e1) = pts[i - 1], pts[i]
    return (e0 + (e1 - e0) * (t - t0) / (t1 - t0)) / 1000


errors = {}
for m in re.finditer(r"^PHASE (\S+) (\d+) (\d+)$", open(log).read(), re.M):
    name, t_open, t_close = m.group(1), int(m.group(2)), int(m.group(3))
    truth = energy_at(t_close) - energy_at(t_open)
    if name not in agent or truth <= 0:
        continue
    kind = re.sub(r"-r\d+$", "", name)
    length = kind.split("-")[0]
    errors.setdefault(length, []).append(agent[name] / truth - 1)

print(f"{'phases':>10} {'n':>4} {'median |err|':>13} {'worst |err|':>12}")
for length in sorted(errors, key=lambda s: -int(s[3:])):
    e = [abs(x) for x in errors[length]]
    print(f"{length:>10} {len(e):>4} {statistics.median(e) * 100:12.2f}% {max(e) * 100:11.2f}%")
gpu = sum(d["joules"] for d in r["devices"] if d["domain"] == "gpu")
phases = sum(p["joules"]["gpu"] for p in r["phases"])
print(f"conservation: phases {phases:.1f} J, devices {gpu:.1f} J (attribution=host)")
