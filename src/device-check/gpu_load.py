"""GPU load for the NVML check: bf16 matrix products for N seconds on GPU 0.

Prints 'START <mJ> <ns>' right after reading the energy counter through pynvml (nvidia-ml-py),
then 'END <mJ> <ns>' after the load and a second reading, then a summary line.
"""
import sys
import time

import pynvml
import torch

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 40.0
pynvml.nvmlInit()
handle = pynvml.nvmlDeviceGetHandleByIndex(0)
name = pynvml.nvmlDeviceGetName(handle)
driver = pynvml.nvmlSystemGetDriverVersion()
a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
for _ in range(3):
    a @ b
torch.cuda.synchronize()

e0 = pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)
t0 = time.monotonic_ns()
print(f"START {e0} {t0}", flush=True)
n = 0
while time.monotonic_ns() - t0 < seconds * 1e9:
    for _ in range(20):
        a @ b
    torch.cuda.synchronize()
    n += 20
e1 = pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)
t1 = time.monotonic_ns()
print(f"END {e1} {t1}", flush=True)
print(f"PYNVML gpu={name} driver={driver} joules={(e1 - e0) / 1000:.3f} "
      f"seconds={(t1 - t0) / 1e9:.3f} products={n}", flush=True)
