"""Compares the agent's gpu-load joules (JSON report) with pynvml's reading of the same window."""
import json
import re
import sys

report, log = sys.argv[1], sys.argv[2]
r = json.load(open(report))
agent = next(p for p in r["phases"] if p["name"] == "gpu-load")["joules"]["gpu"]
text = open(log).read()
m = re.search(r"PYNVML gpu=(.*) driver=(\S+) joules=([\d.]+) seconds=([\d.]+)", text)
truth = float(m.group(3))
devices = [d for d in r["devices"] if d["domain"] == "gpu"]
print(f"GPU: {m.group(1)}  driver: {m.group(2)}  window: {m.group(4)} s")
print(f"devices: {[(d['id'], d['source'], round(d['joules'], 1)) for d in devices]}")
print(f"agent gpu-load joules:  {agent:.1f}")
print(f"pynvml joules (window): {truth:.1f}")
print(f"ratio agent/pynvml:     {agent / truth:.5f}  ({(agent / truth - 1) * 100:+.3f} %)")
