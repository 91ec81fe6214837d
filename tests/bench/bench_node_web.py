#!/usr/bin/env python3
"""bench_node_web: how fast the operator's pages answer on a node holding a large school's
year, beside the command line doing the same work in the same run.

    python3 tests/bench/bench_node_web.py [BIN_DIR] [ROWS] [TEACHERS]

Makes a node (dali policy) with ROWS lectures (default 20000) of TEACHERS teachers (default
200), starts `xueshi-node web` on it, and times, as medians of several requests: the pages
登记 (/record?category=lecture), 记录 (/records, its newest 2,000 rows), 学时 (/totals), a POST of
one lecture through the form (CSRF token included), and a POST of a 2,000-row sheet to /import;
then `xueshi-node list`, `totals` and `record` as processes. Prints one line per measure and
the ratio of each page to the command that does its work.
"""
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(SOURCE, "build", "bin")
ROWS = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
TEACHERS = int(sys.argv[3]) if len(sys.argv) > 3 else 200
POLICY = os.path.join(SOURCE, "schema", "policies", "dali.ini")
NODE = os.path.join(BIN, "xueshi-node")
YEAR = "2025-2026"


def sheet(rows, first=0):
    lines = ["teacher_id,date,category,minutes,event"]
    for i in range(first, first + rows):
        lines.append("T%04d,2025-%02d-%02d,lecture,%d,讲座 %d" % (
            i % TEACHERS, 9 + i % 4, 1 + i % 28, 30 + i % 90, i))
    return ("\n".join(lines) + "\n").encode()


def timed(fn, runs):
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return statistics.median(out)


def main():
    work = tempfile.mkdtemp(prefix="bench_node_web.")
    node = os.path.join(work, "node")
    subprocess.run([NODE, "init", "--dir", node, "--school", "S1", "--policy", POLICY],
                   check=True, stdout=subprocess.DEVNULL)
    path = os.path.join(work, "sheet.csv")
    with open(path, "wb") as f:
        f.write(sheet(ROWS))
    subprocess.run([NODE, "import", "--dir", node, path], check=True, stdout=subprocess.DEVNULL)
    web = subprocess.Popen([NODE, "web", "--dir", node, "--listen", "127.0.0.1:0"],
                           stdout=subprocess.PIPE, text=True)
    try:
        port = int(re.search(r":(\d+)/", web.stdout.readline()).group(1))

        def get(target):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            c.request("GET", target)
            r = c.getresponse()
            body = r.read()
            c.close()
            if r.status != 200:
                raise SystemExit("GET %s: %d" % (target, r.status))
            return body.decode()

        token = re.search(r'name="csrf" value="([0-9a-f]+)"', get("/record?category=lecture")).group(1)
        n = [0]

        def post_record():
            n[0] += 1
            body = ("csrf=%s&category=lecture&teacher_id=T0001&date=2025-10-%02d&minutes=45"
                    "&note=web%d" % (token, 1 + n[0] % 28, n[0])).encode()
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            c.request("POST", "/record", body,
                      {"Content-Type": "application/x-www-form-urlencoded"})
            r = c.getresponse()
            r.read()
            c.close()
            if r.status != 303:
                raise SystemExit("POST /record: %d" % r.status)

        def post_import():
            n[0] += 1
            boundary = uuid.uuid4().hex
            data = sheet(2000, first=ROWS + n[0] * 2000)
            body = (("--%s\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n%s\r\n"
                     "--%s\r\nContent-Disposition: form-data; name=\"sheet\"; "
                     "filename=\"s.csv\"\r\nContent-Type: text/csv\r\n\r\n")
                    % (boundary, token, boundary)).encode() + data + \
                ("\r\n--%s--\r\n" % boundary).encode()
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            c.request("POST", "/import", body,
                      {"Content-Type": "multipart/form-data; boundary=" + boundary})
            r = c.getresponse()
            r.read()
            c.close()
            if r.status != 200:
                raise SystemExit("POST /import: %d" % r.status)

        def run(*args):
            subprocess.run([NODE] + list(args), check=True, stdout=subprocess.DEVNULL)

        rows = [
            ("page 登记 /record?category=lecture", timed(lambda: get("/record?category=lecture"), 15), None),
            ("page 记录 /records", timed(lambda: get("/records"), 7),
             ("xueshi-node list", timed(lambda: run("list", "--dir", node), 5))),
            ("page 学时 /totals", timed(lambda: get("/totals?year=" + YEAR), 7),
             ("xueshi-node totals", timed(lambda: run("totals", "--dir", node, "--year", YEAR), 5))),
            ("POST /record (one lecture)", timed(post_record, 15),
             ("xueshi-node record", timed(lambda: run(
                 "record", "--dir", node, "--teacher", "T0002", "--date", "2025-10-02",
                 "--category", "lecture", "--minutes", "45"), 15))),
            ("POST /import (2,000 rows)", timed(post_import, 5), None),
        ]
    finally:
        web.terminate()
        web.wait()
    print("node: %d records of %d teachers; medians in ms" % (ROWS, TEACHERS))
    for what, ms, peer in rows:
        if peer:
            print("%-36s %8.1f ms   %-20s %8.1f ms   ratio %.2f" % (what, ms, peer[0], peer[1],
                                                                  ms / peer[1]))
        else:
            print("%-36s %8.1f ms" % (what, ms))
    subprocess.run(["rm", "-rf", work], check=False)


if __name__ == "__main__":
    main()
