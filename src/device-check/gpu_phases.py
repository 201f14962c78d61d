"""GPU load whose power level the JVM sets, and an independent reading of the GPU's energy.

Commands on stdin, one per line: 'LEVEL k' (k = 0 idle, 1 small, 2 medium, 3 large bf16 matrix
products) and 'QUIT'. On 'LEVEL k' the child drains the work queued so far (synchronize), switches,
and prints 'ACK k <monotonic ns>'. A poller thread reads nvmlDeviceGetTotalEnergyConsumption
through pynvml (nvidia-ml-py) every 2 ms and keeps the first instant at which each new counter value
was seen; at QUIT those points are written to the file named by the first argument as
'E <monotonic ns> <millijoules>' lines. A second poller reads the instantaneous power field
(NVML_FI_DEV_POWER_INSTANT, about 4 us a read) every millisecond and writes 'P <monotonic ns>
<milliwatts>' lines: the counter gives each update period's exact energy, the power samples its
shape within the period. time.monotonic_ns() and Java's System.nanoTime() read the same clock
(CLOCK_MONOTONIC) on Linux.
"""
import queue
import sys
import threading
import time

import pynvml
import torch

poll_file = sys.argv[1]
pynvml.nvmlInit()
handle = pynvml.nvmlDeviceGetHandleByIndex(0)

sizes = {1: 1024, 2: 4096, 3: 8192}
mats = {k: (torch.randn(n, n, device="cuda", dtype=torch.bfloat16),
            torch.randn(n, n, device="cuda", dtype=torch.bfloat16)) for k, n in sizes.items()}
for a, b in mats.values():
    a @ b
torch.cuda.synchronize()

points = []
powers = []
stop = threading.Event()
POWER_INSTANT = getattr(pynvml, "NVML_FI_DEV_POWER_INSTANT", 186)


def poll():
    last = None
    while not stop.is_set():
        e = pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)
        t = time.monotonic_ns()
        if e != last:
            points.append((t, e))
            last = e
        time.sleep(0.002)


def poll_power():
    while not stop.is_set():
        try:
            v = pynvml.nvmlDeviceGetFieldValues(handle, [POWER_INSTANT])[0]
            if v.nvmlReturn == 0:
                powers.append((time.monotonic_ns(), v.value.uiVal))
        except pynvml.NVMLError:
            pass
        time.sleep(0.001)


commands = queue.Queue()


def read_commands():
    for line in sys.stdin:
        commands.put(line.strip())
    commands.put("QUIT")


threading.Thread(target=poll, daemon=True).start()
threading.Thread(target=poll_power, daemon=True).start()
threading.Thread(target=read_commands, daemon=True).start()
print("READY", flush=True)
level = 0
while True:
    try:
        cmd = commands.get_nowait()
    except queue.Empty:
        cmd = None
    if cmd is not None:
        torch.cuda.synchronize()
        if cmd == "QUIT":
            break
        level = int(cmd.split()[1])
        print(f"ACK {level} {time.monotonic_ns()}", flush=True)
        continue
    if level == 0:
        time.sleep(0.001)
        continue
    a, b = mats[level]
    for _ in range(4):
        a @ b
    torch.cuda.synchronize()  # keep the queue short: a switch then waits for little work

time.sleep(0.3)  # one more counter update after the last phase
stop.set()
with open(poll_file, "w") as f:
    for t, e in points:
        f.write(f"E {t} {e}\n")
    for t, mw in powers:
        f.write(f"P {t} {mw}\n")
print(f"POLLED {len(points)} counter updates, {len(powers)} power samples", flush=True)
