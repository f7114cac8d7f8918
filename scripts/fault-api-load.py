#!/usr/bin/env python3
"""Steady load for scripts/fault-api.sh, and its verdict. Standard library only.

  fault-api-load.py run --api URL --token T --seconds N --out DIR [--threads 6] [--receipt PDF]
      Mixed reads and writes with a bearer token until N seconds have passed: list, search and
      get customers, create customers (each with its own Idempotency-Key) and invoices with a
      receipt. Every request goes to DIR/requests.jsonl: start, end, operation, status,
      Retry-After, and the id a 201 answered.

  fault-api-load.py report --out DIR --hang-limit S --recovery-limit S
      Reads DIR/requests.jsonl, DIR/faults.tsv (name, down at, back at: epoch seconds) and
      DIR/customers-in-db.txt, DIR/invoices-in-db.txt (ids found in the database afterwards).
      Prints requests, errors by status, the slowest request, each fault's outage and recovery
      time, and lost writes; exits 1 when an expectation is broken:
        - every answer is 200/201, or 503 with Retry-After (no 500s, no other errors);
        - every request is answered within the hang limit;
        - after each dependency is back, failures stop within the recovery limit;
        - every id answered with 201 is in the database.
"""

import argparse
import collections
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse
import uuid

OPERATIONS = [  # (name, weight)
    ("list", 25),
    ("search", 20),
    ("get", 20),
    ("create_customer", 25),
    ("create_invoice", 10),
]
WRITES = {"create_customer", "create_invoice"}
BOUNDARY = "----crm-fault-api-load"


class Client:
    """One keep-alive connection; reconnects after a failure."""

    def __init__(self, api, token, timeout):
        url = urllib.parse.urlsplit(api)
        self.host, self.port, self.prefix = url.hostname, url.port, url.path.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"}
        self.timeout = timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        """(status or an error word, Retry-After, parsed JSON or None)."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            self.conn.request(method, self.prefix + path, body=body, headers={**self.headers, **(headers or {})})
            response = self.conn.getresponse()
            data = response.read()
            retry_after = response.getheader("Retry-After")
            if response.getheader("Connection", "").lower() == "close":
                self.close()
        except TimeoutError:
            self.close()
            return "timeout", None, None
        except (OSError, http.client.HTTPException) as error:
            self.close()
            return f"no answer ({type(error).__name__})", None, None
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = None
        return response.status, retry_after, parsed

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def multipart(fields, file_name, file_bytes):
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode() for name, value in fields]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="receipt"; filename="{file_name}"\r\n'
        "Content-Type: application/pdf\r\n\r\n".encode() + file_bytes + b"\r\n"
    )
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


class Load:
    def __init__(self, args):
        self.args = args
        self.receipt = open(args.receipt, "rb").read()
        self.customers = []  # ids known to exist (created with 201)
        self.lock = threading.Lock()
        self.records = []
        self.stop_at = time.time() + args.seconds
        self.counter = 0

    def known_customer(self, rng):
        with self.lock:
            return rng.choice(self.customers) if self.customers else None

    def one(self, client, rng, thread):
        op = rng.choices([o for o, _ in OPERATIONS], [w for _, w in OPERATIONS])[0]
        customer = self.known_customer(rng)
        if op in ("get", "create_invoice") and customer is None:
            op = "create_customer"
        with self.lock:
            self.counter += 1
            n = self.counter
        start = time.time()
        if op == "list":
            status, retry, body = client.request("GET", "/customers?limit=20")
        elif op == "search":
            status, retry, body = client.request("GET", f"/customers?q=Load+{rng.randint(0, 9)}&limit=10")
        elif op == "get":
            status, retry, body = client.request("GET", f"/customers/{customer}")
        elif op == "create_customer":
            payload = json.dumps({"name": f"Load {thread} {n}", "notes": "fault run"})
            status, retry, body = client.request(
                "POST", "/customers", payload,
                {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())},
            )
        else:
            form = multipart([("amount", f"{rng.randint(1, 99999) / 100:.2f}"), ("number", f"F-{n}")], "receipt.pdf", self.receipt)
            status, retry, body = client.request(
                "POST", f"/customers/{customer}/invoices", form,
                {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
            )
        end = time.time()
        record = {"start": start, "end": end, "op": op, "status": status, "retry_after": retry}
        if status == 201 and isinstance(body, dict):
            record["id"] = body.get("id")
            if op == "create_customer":
                with self.lock:
                    self.customers.append(body.get("id"))
        with self.lock:
            self.records.append(record)

    def worker(self, thread):
        rng = random.Random(thread)
        client = Client(self.args.api, self.args.token, self.args.timeout)
        while time.time() < self.stop_at:
            self.one(client, rng, thread)
            time.sleep(self.args.pause)
        client.close()

    def progress(self):
        shown = 0
        while time.time() < self.stop_at:
            time.sleep(5)
            with self.lock:
                recent = self.records[shown:]
                shown = len(self.records)
            statuses = collections.Counter(str(r["status"]) for r in recent)
            slowest = max((r["end"] - r["start"] for r in recent), default=0)
            print(f"[{time.strftime('%H:%M:%S')}] load: {len(recent)} requests in 5 s, "
                  f"{dict(sorted(statuses.items()))}, slowest {slowest:.2f} s", flush=True)


def run(args):
    load = Load(args)
    threads = [threading.Thread(target=load.worker, args=(t,), daemon=True) for t in range(args.threads)]
    threading.Thread(target=load.progress, daemon=True).start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with open(f"{args.out}/requests.jsonl", "w") as out:
        for record in sorted(load.records, key=lambda r: r["start"]):
            out.write(json.dumps(record) + "\n")


def report(args):
    records = [json.loads(line) for line in open(f"{args.out}/requests.jsonl")]
    faults = []
    for line in open(f"{args.out}/faults.tsv"):
        name, down, up = line.rstrip("\n").split("\t")
        faults.append((name, float(down), float(up)))
    in_db = {
        op: {int(x) for x in open(f"{args.out}/{table}-in-db.txt").read().split()}
        for op, table in (("create_customer", "customers"), ("create_invoice", "invoices"))
    }
    ok = lambda r: r["status"] in (200, 201)
    breaches = []

    statuses = collections.Counter(str(r["status"]) for r in records)
    errors = {s: c for s, c in statuses.items() if s not in ("200", "201")}
    by_op = collections.Counter(r["op"] for r in records)
    t0 = min(r["start"] for r in records)
    t1 = max(r["end"] for r in records)
    print(f"{'requests':<28}{len(records):>8}   over {t1 - t0:.0f} s, {len(records) / (t1 - t0):.0f}/s; {dict(sorted(by_op.items()))}")
    print(f"{'errors by status':<28}{sum(errors.values()):>8}   {dict(sorted(errors.items())) or '{}'}")
    slowest = max(records, key=lambda r: r["end"] - r["start"])
    print(f"{'slowest request':<28}{slowest['end'] - slowest['start']:>7.2f}s   {slowest['op']} at +{slowest['start'] - t0:.1f} s, answered {slowest['status']}  (limit {args.hang_limit} s)")

    unexpected = [r for r in records if not ok(r) and r["status"] != 503]
    if unexpected:
        kinds = collections.Counter((r["op"], str(r["status"])) for r in unexpected)
        breaches.append(f"answers other than 200/201/503: {dict(kinds)}")
    no_retry_after = [r for r in records if r["status"] == 503 and not r["retry_after"]]
    if no_retry_after:
        breaches.append(f"{len(no_retry_after)} answers 503 without Retry-After")
    hung = [r for r in records if r["end"] - r["start"] > args.hang_limit]
    if hung:
        breaches.append(f"{len(hung)} requests took longer than {args.hang_limit} s (slowest {slowest['end'] - slowest['start']:.1f} s)")

    for i, (name, down, up) in enumerate(faults):
        next_down = faults[i + 1][1] if i + 1 < len(faults) else float("inf")
        during = [r for r in records if r["end"] >= down and r["start"] <= up]
        failed_during = [r for r in during if not ok(r)]
        after = [r for r in records if up < r["end"] < next_down and not ok(r)]
        recovery = max((r["end"] for r in after), default=up) - up
        first_ok = min((r["end"] for r in records if ok(r) and r["start"] >= up), default=None)
        first_ok_text = f"{first_ok - up:.2f} s" if first_ok is not None else "never"
        print(f"fault {name:<22}down {up - down:4.1f} s: {len(during)} requests, {len(failed_during)} answered 503 or failed; "
              f"back: first success after {first_ok_text}, last failure {recovery:.2f} s after  (limit {args.recovery_limit} s)")
        if first_ok is None or recovery > args.recovery_limit:
            breaches.append(f"{name}: not recovered within {args.recovery_limit} s (failures until {recovery:.1f} s after it was back)")
        if name.startswith("postgres-stop") and not any(r["status"] == 503 for r in during):
            breaches.append(f"{name}: no request saw a 503 while PostgreSQL was down (did the fault happen?)")

    lost = []
    acknowledged = 0
    for r in records:
        if r["status"] == 201 and r["op"] in WRITES:
            acknowledged += 1
            if r.get("id") not in in_db[r["op"]]:
                lost.append((r["op"], r.get("id")))
    print(f"{'acknowledged writes':<28}{acknowledged:>8}")
    print(f"{'lost writes':<28}{len(lost):>8}   must be 0")
    if lost:
        breaches.append(f"acknowledged writes missing from the database: {lost[:10]}")
    if acknowledged == 0:
        breaches.append("no write was acknowledged")
    for breach in breaches:
        print(f"BREACH: {breach}")
    print("API fault run: " + ("FAILED" if breaches else "passed"))
    return 1 if breaches else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--api", required=True, help="e.g. http://127.0.0.1:8080/api/v1")
    r.add_argument("--token", required=True)
    r.add_argument("--seconds", type=float, required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--threads", type=int, default=6)
    r.add_argument("--pause", type=float, default=0.02, help="seconds between one thread's requests")
    r.add_argument("--timeout", type=float, default=30, help="seconds before a request counts as hung")
    r.add_argument("--receipt", default="crates/receipts/tests/fixtures/plain.pdf")
    p = sub.add_parser("report")
    p.add_argument("--out", required=True)
    p.add_argument("--hang-limit", type=float, required=True)
    p.add_argument("--recovery-limit", type=float, required=True)
    args = parser.parse_args()
    if args.command == "run":
        run(args)
        return 0
    return report(args)


if __name__ == "__main__":
    sys.exit(main())
