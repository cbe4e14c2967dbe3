#!/usr/bin/env python3
"""Bytes on the wire, plain vs brotli vs gzip, for the web client's scripts and a 2,000-card
board's GET /api/boards/{id} (BENCHMARKS.md, "Compression").

Usage: bench/scripts/wire_bytes.py path/to/kipina [cards]

Starts the given kipina on a free loopback port with a fresh data directory, makes a board of
`cards` cards (default 2,000; Finnish titles and a two-sentence text each) over the HTTP API,
then asks for the board and every script with Accept-Encoding: identity, br and gzip and counts
the bytes received (nothing is decoded). Only the standard library is used.
"""
import json
import re
import subprocess
import sys
import tempfile
import urllib.request
import uuid

WORDS = ["kyläkoulu", "iltakäyttö", "kumppanuus", "yhteisö", "nuoret", "kylätalo", "kahvila",
         "verkosto", "talkoot", "rantasauna", "kyläbussi", "etätyöpiste", "kirjasto", "harrastus"]


def request(url, data=None, token=None, accept=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    headers["Accept-Encoding"] = accept or "identity"
    body = json.dumps(data).encode() if data is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, body, headers)) as answer:
        return answer.read(), answer.headers.get("Content-Encoding")


def sizes(url, token=None):
    out = {}
    for accept in ["identity", "br", "gzip"]:
        body, encoding = request(url, token=token, accept=accept)
        assert (encoding or "identity") == accept, (url, accept, encoding)
        out[accept] = len(body)
    return out


def main():
    binary = sys.argv[1]
    cards = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    data = tempfile.mkdtemp(prefix="kipina-wire-")
    server = subprocess.Popen(
        [binary, "serve", "--bind", "127.0.0.1:0", "--no-demo", "--max-commands-per-second", "100000",
         "--data", data], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        base = re.search(r"http://[0-9.:]+", server.stdout.readline()).group(0)
        created, _ = request(f"{base}/api/boards", {"title": "Kyläsuunnitelma 2027",
                                                     "facilitator_name": "Fanni", "template": "empty"})
        created = json.loads(created)
        board, token = created["session"]["board"], created["session"]["token"]
        column = str(uuid.uuid4())
        command = lambda c: request(f"{base}/api/boards/{board}/commands",
                                    {"command_id": str(uuid.uuid4()), "command": c}, token)
        command({"type": "add_column", "column": column, "title": "Ideat"})
        for n in range(cards):
            w = [WORDS[(n * 7 + i * 3) % len(WORDS)] for i in range(6)]
            command({"type": "add_card", "card": str(uuid.uuid4()), "column": column,
                     "title": f"{w[0].capitalize()} ja {w[1]} {n}",
                     "body": f"Ehdotus: {w[2]} ja {w[3]} yhteen. Tarvitaan {w[4]} ja {w[5]}."})
        page, _ = request(f"{base}/")
        scripts = sorted(set(re.findall(r'/assets/[^"]+\.js', page.decode())))
        index = sizes(f"{base}{scripts[0]}") if scripts else None
        board_sizes = sizes(f"{base}/api/boards/{board}", token)
        print(json.dumps({"cards": cards, "board_json": board_sizes, "entry_script": scripts[0] if scripts else None,
                          "entry_script_bytes": index}, indent=2))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
