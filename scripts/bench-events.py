#!/usr/bin/env python3
"""Live-event load figure (issue 10): opens N event streams on one crm-api process, sets one
reminder, and reports how long the reminder.changed event took to reach every stream, the
process's memory before, with the streams open, and after they were all dropped.

    scripts/bench-events.py --url http://127.0.0.1:8080 --token crm_... --pid 1234 \
        --customer 1 [--streams 1000]

scripts/bench-events.sh starts a database, a crm-api and a token, then runs this.
"""
import argparse
import asyncio
import json
import time
import urllib.request
from datetime import datetime, timedelta, timezone


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def open_stream(host: str, port: int, token: str):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"GET /api/v1/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    )
    await writer.drain()
    while b": connected" not in await reader.readline():
        pass
    return reader, writer


async def wait_for(reader, marker: bytes) -> float:
    while True:
        line = await reader.readline()
        if not line:
            raise RuntimeError("stream closed")
        if marker in line:
            return time.monotonic()


def post(url: str, token: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--customer", type=int, required=True)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--settle", type=int, default=30, help="seconds to wait after closing")
    parser.add_argument("--rounds", type=int, default=2, help="open-and-close rounds (a leak grows)")
    args = parser.parse_args()
    host, port = args.url.split("//")[1].split(":")
    port = int(port.split("/")[0])

    print(f"| round | streams | RSS before | with the streams open | per stream | {args.settle} s after closing | "
          f"event to first / p50 / all (from the POST) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for round_ in range(1, args.rounds + 1):
        await one_round(round_, args, host, port)


async def one_round(round_: int, args, host: str, port: int) -> None:
    """Opens the streams, times one event to all of them, closes them and lets the server see."""
    before = rss_kib(args.pid)
    streams = []
    for start in range(0, args.streams, 100):
        batch = [open_stream(host, port, args.token) for _ in range(min(100, args.streams - start))]
        streams += await asyncio.gather(*batch)
    await asyncio.sleep(1)
    opened = rss_kib(args.pid)

    waiting = [asyncio.create_task(wait_for(reader, b"event: reminder.changed")) for reader, _ in streams]
    await asyncio.sleep(0.2)
    remind_at = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    sent = time.monotonic()
    post(f"{args.url}/api/v1/reminders", args.token,
         {"customer_id": args.customer, "remind_at": remind_at, "note": "load"})
    arrivals = sorted(t - sent for t in await asyncio.gather(*waiting))

    for _, writer in streams:
        writer.close()
    # A stream learns its client went when a write fails: the second heartbeat (every 10 s)
    # after the client left, at the latest.
    await asyncio.sleep(args.settle)
    after = rss_kib(args.pid)
    pick = lambda q: arrivals[min(len(arrivals) - 1, int(q * len(arrivals)))]
    print(f"| {round_} | {len(streams):,} | {before / 1024:.1f} MiB | {opened / 1024:.1f} MiB | "
          f"{(opened - before) / len(streams):.1f} KiB | {after / 1024:.1f} MiB | "
          f"{arrivals[0] * 1000:.0f} / {pick(0.5) * 1000:.0f} / {arrivals[-1] * 1000:.0f} ms |", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
