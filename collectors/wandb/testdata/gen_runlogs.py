#!/usr/bin/env python3
"""Writes the run logs (run-<id>.wandb) of testdata/project.

The framing copies wandb/sdk/internal/datastore.py (DataStore._write_data:
7-byte header, 32 KiB blocks, FULL/FIRST/MIDDLE/LAST records, zero
padding, zlib CRC-32 seeded with the type byte); the Record protobufs are
encoded by hand with the field numbers of wandb/proto/wandb_internal.proto.
It is independent of the Go reader it tests. Run from this folder:
python3 gen_runlogs.py
"""
import json, struct, zlib

BLOCK, HLEN = 32768, 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


class Store:
    def __init__(self, path):
        self.fp = open(path, "wb")
        self.fp.write(struct.pack("<4sHB", b":W&B", 0xBEE1, 0))
        self.index = HLEN

    def record(self, s, dtype):
        crc = zlib.crc32(s, zlib.crc32(bytes([dtype]))) & 0xFFFFFFFF
        self.fp.write(struct.pack("<IHB", crc, len(s), dtype) + s)
        self.index += HLEN + len(s)

    def write(self, s):
        space = BLOCK - self.index % BLOCK
        if space < HLEN:
            self.fp.write(b"\x00" * space)
            self.index += space
            space = BLOCK
        if len(s) + HLEN <= space:
            return self.record(s, FULL)
        room = space - HLEN
        self.record(s[:room], FIRST)
        used, left = room, len(s) - room
        while left > BLOCK - HLEN:
            self.record(s[used:used + BLOCK - HLEN], MIDDLE)
            used += BLOCK - HLEN
            left -= BLOCK - HLEN
        self.record(s[used:], LAST)

    def close(self):
        self.fp.close()


def varint(n):
    out = b""
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def vfield(num, n):
    return varint(num << 3) + varint(n)


def bfield(num, data):
    if isinstance(data, str):
        data = data.encode()
    return varint(num << 3 | 2) + varint(len(data)) + data


def record(num, field, body):
    return vfield(1, num) + bfield(field, body)


def run_record(run_id, project, name, tags, start, commit, notes=""):
    b = bfield(1, run_id) + bfield(2, "jane") + bfield(3, project) + bfield(6, "xgb-vs-mlp")
    b += bfield(7, "train") + bfield(8, name)
    if notes:
        b += bfield(9, notes)
    for t in tags:
        b += bfield(10, t)
    b += bfield(13, "gpu-box-01") + bfield(17, vfield(1, start) + vfield(2, 500000000))
    b += bfield(21, bfield(1, "https://github.com/jane/fraud-model.git") + bfield(2, commit))
    return b


def history(step, items):
    b = b""
    for k, v in [("_step", step), ("_timestamp", 1709288100.5 + 60 * step), ("_runtime", 60.0 * step)] + items:
        if "/" in k:
            item = b"".join(bfield(2, p) for p in k.split("/"))
        else:
            item = bfield(1, k)
        b += bfield(1, item + bfield(16, json.dumps(v)))
    return b + bfield(2, vfield(1, step))


def metric(name, goal):
    return bfield(1, name) + vfield(8, goal)


def exit_record(code, runtime):
    return vfield(1, code & 0xFFFFFFFF) + vfield(2, runtime)


def write_a(path):
    s = Store(path)
    n = 0

    def put(field, body):
        nonlocal n
        n += 1
        s.write(record(n, field, body))

    # A long note (over one block) makes the run record span FIRST/MIDDLE/LAST.
    notes = "Baseline XGBoost on the fraud features. " * 1800
    put(17, run_record("a1b2c3d4", "fraud-model", "xgb-baseline", ["baseline", "ksb:S10, K4"], 1709288100,
                       "3f2c1a9be07d4c5e8a1b2c3d4e5f60718293a4b5", notes))
    put(12, metric("val/loss", 1))
    put(12, metric("val/accuracy", 2))
    for step in range(20):
        last = step == 19  # the last step logs what files/wandb-summary.json holds
        put(2, history(step, [("train/loss", 0.2143 if last else round(0.65 - 0.022 * step, 4)),
                              ("val/loss", 0.2871 if last else round(0.70 - 0.0218 * step, 4)),
                              ("val/accuracy", 0.9132 if last else round(0.80 + 0.0057 * step, 4)), ("epoch", step),
                              ("confusion", {"_type": "image-file", "path": "media/images/c.png"})]))
    put(18, exit_record(0, 1199))
    s.close()


def write_b(path, first_step, steps, exit_code):
    s = Store(path)
    n = 0
    s.write(record(1, 17, run_record("zz9k3m1q", "cifar", "resnet18-lr-sweep", ["sweep"], 1709629200,
                                     "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")))
    for step in range(first_step, first_step + steps):
        n += 1
        s.write(record(n + 1, 2, history(step, [("loss", round(2.0 / (step + 1), 4)), ("accuracy", round(1 - 1.0 / (step + 2), 4))])))
    if exit_code is not None:
        s.write(record(n + 2, 18, exit_record(exit_code, 1800)))
    s.close()


write_a("project/wandb/offline-run-20240301_101500-a1b2c3d4/run-a1b2c3d4.wandb")
write_b("project/wandb/offline-run-20240305_090000-zz9k3m1q/run-zz9k3m1q.wandb", 0, 10, None)
write_b("project/wandb/offline-run-20240305_120000-zz9k3m1q/run-zz9k3m1q.wandb", 10, 20, 1)
