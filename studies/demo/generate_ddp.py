"""Write a synthetic, deterministic data download (DDP) for the fictional "Demo platform".

Usage: python3 studies/demo/generate_ddp.py OUT.zip [--rows N] [--seed S]

The zip holds `demo_platform/watch_history.json`, `demo_platform/searches.csv`,
`demo_platform/profile.json` and a README. Everything is invented; the same arguments
always give byte-identical output (fixed timestamps in the zip headers).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sys
import zipfile
from datetime import datetime, timedelta, timezone

CHANNELS = ["Cooking Corner", "Daily Science", "Retro Games", "City Walks", "Music Lab", "Garden Tips"]
TOPICS = ["pasta", "volcano", "pixel art", "bicycle", "piano", "tomatoes", "comet", "bread", "synth", "orchid"]
QUERY_TEMPLATES = ["how to {}", "{} tutorial", "best {} videos", "{} for beginners", "{} history"]
# Invariant: the zip's internal dates are fixed so output depends only on the arguments.
ZIP_DATE = (2024, 1, 1, 0, 0, 0)
START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def build_members(rows: int, seed: int) -> dict[str, bytes]:
    """The DDP's files as name → bytes."""
    rng = random.Random(seed)
    watch_history = []
    for _ in range(rows):
        channel = rng.choice(CHANNELS)
        topic = rng.choice(TOPICS)
        watched_at = START + timedelta(minutes=rng.randrange(0, 60 * 24 * 180))
        watch_history.append(
            {
                "title": f"{topic.title()} in {rng.randrange(2, 60)} minutes",
                "channel": channel,
                "watched_at": watched_at.isoformat(),
                "duration_seconds": rng.randrange(30, 3600),
            }
        )
    watch_history.sort(key=lambda entry: entry["watched_at"])

    searches = io.StringIO()
    writer = csv.writer(searches, lineterminator="\n")
    writer.writerow(["timestamp", "query"])
    search_rows = []
    for _ in range(max(1, rows // 2)):
        searched_at = START + timedelta(minutes=rng.randrange(0, 60 * 24 * 180))
        search_rows.append((searched_at.isoformat(), rng.choice(QUERY_TEMPLATES).format(rng.choice(TOPICS))))
    for row in sorted(search_rows):
        writer.writerow(row)

    profile = {
        "username": f"demo_user_{rng.randrange(1000, 9999)}",
        "display_name": "Demo Participant",
        "created_at": (START - timedelta(days=rng.randrange(100, 2000))).isoformat(),
        "language": "en",
        "country": "NL",
    }
    return {
        "demo_platform/watch_history.json": json.dumps({"watch_history": watch_history}, indent=2).encode(),
        "demo_platform/searches.csv": searches.getvalue().encode(),
        "demo_platform/profile.json": json.dumps(profile, indent=2).encode(),
        "demo_platform/README.txt": b"Your Demo platform data download (synthetic).\n",
    }


def write_ddp(out: "str | io.BufferedIOBase", rows: int = 50, seed: int = 0) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in build_members(rows, seed).items():
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)


def ddp_bytes(rows: int = 50, seed: int = 0) -> bytes:
    buffer = io.BytesIO()
    write_ddp(buffer, rows, seed)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="path of the zip to write")
    parser.add_argument("--rows", type=int, default=50, help="number of watch history entries (default 50)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    if args.rows < 0:
        parser.error("--rows must be at least 0")
    write_ddp(args.out, args.rows, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
