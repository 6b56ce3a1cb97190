"""How stablewatch scales: synthetic archives of any size, timed stage by stage.

Builds an archive in the shape of data/sample/posts.jsonl (its threads replicated with new
ids, every text made distinct, thread start times spread over ``--days`` days ending on
the sample's last day; one JSONL file per month), then runs each stage as its own
`stablewatch` process and reports its wall seconds, CPU seconds, posts (or texts) per
second, peak RSS and the database size after it, plus the latency of the analysts'
typical queries. The load average is recorded before and after every stage.

    python benchmarks/scale.py --posts 10000 --daily          # whole pipeline, and `daily`
    python benchmarks/scale.py --posts 1000000 --score-slice 3000 --fill-scores  # a year
    python benchmarks/scale.py --posts 10000 --write          # append to results/scale.md

Stages: collect (`collect --archive`: parse, assign topics, store), score (`score`, or
`score --limit N` and an extrapolation), summarize (`summarize`: every day of the
range, zero-fill, baselines), digest (`digest --date` of the last day), queries. With
``--daily``, `daily --archive` also runs on a fresh database: the whole pipeline in one
process, as cron runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from jobs.questions import CANNED_QUERIES

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "posts.jsonl"
RESULTS = ROOT / "benchmarks" / "results" / "scale.md"
STABLEWATCH = [str(Path(sys.executable).with_name("stablewatch"))]
END_DAY = date(2026, 11, 23)  # the sample's last day

# The analysts' typical questions over a year of posts (the canned queries of
# `stablewatch metadata` among them). :day is the last day, :week/:month its window starts.
QUERIES: dict[str, str] = {
    "a year of one topic (daily_summary)": (
        "SELECT day, volume, net_stance, speculative_share FROM daily_summary "
        "WHERE topic = 'yuan stablecoins' ORDER BY day"
    ),
    "spike days": "SELECT day, topic, volume, spike_note FROM daily_summary WHERE spike = 1",
    "canned latest_opposed (whole history)": CANNED_QUERIES["latest_opposed"]["sql"],
    "most opposed this week": (
        "SELECT p.day, p.title, p.body, s.p_opposed, p.url FROM posts p JOIN scores s "
        "ON s.source = p.source AND s.post_id = p.post_id AND s.content_hash = p.content_hash "
        "WHERE p.day BETWEEN :week AND :day AND s.relevant AND s.stance = 'opposed' "
        "ORDER BY s.p_opposed DESC LIMIT 20"
    ),
    "stance mix of a topic, last month": (
        "SELECT s.stance, COUNT(*) AS n FROM posts p JOIN scores s ON s.source = p.source "
        "AND s.post_id = p.post_id AND s.content_hash = p.content_hash "
        "WHERE p.day BETWEEN :month AND :day AND p.topic = 'yuan stablecoins' "
        "GROUP BY s.stance"
    ),
    "most active threads this week": (
        "SELECT source, thread_id, COUNT(*) AS n FROM posts WHERE day BETWEEN :week AND :day "
        "GROUP BY source, thread_id ORDER BY n DESC LIMIT 10"
    ),
    "canned thread": CANNED_QUERIES["thread"]["sql"],
    "one author's posts": (
        "SELECT day, community, title, body, url FROM posts WHERE author = :author "
        "ORDER BY created_at DESC LIMIT 200"
    ),
    "a community by day, last month": (
        "SELECT day, COUNT(*) AS n FROM posts WHERE community = :community "
        "AND day BETWEEN :month AND :day GROUP BY day ORDER BY day"
    ),
}


# -- the synthetic archive ------------------------------------------------------------------
def sample_threads() -> list[list[dict[str, Any]]]:
    """The sample's threads, each root first then its comments by time."""
    threads: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            threads[(rec["source"], rec["thread_id"])].append(rec)
    return [
        sorted(t, key=lambda r: (r["kind"] != "post", r["created_utc"]))
        for _, t in sorted(threads.items())
    ]


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def build_archive(posts: int, days: int, out: Path, seed: int = 7) -> list[Path]:
    """Write ``posts`` records spread over ``days`` days as one JSONL file per month."""
    rng = random.Random(seed)
    threads = sample_threads()
    out.mkdir(parents=True, exist_ok=True)
    first_day = END_DAY - timedelta(days=days - 1)
    files: dict[str, Any] = {}
    written, replica = 0, 0
    try:
        while written < posts:
            for thread in threads:
                if written >= posts:
                    break
                root_time = _time(thread[0]["created_utc"])
                start = datetime.combine(
                    first_day + timedelta(days=rng.randrange(days)), root_time.timetz()
                )
                suffix = f"x{replica}"
                for rec in thread[: posts - written]:
                    new = dict(rec)
                    new["id"] = rec["id"] + suffix
                    new["thread_id"] = rec["thread_id"] + suffix
                    new["parent_id"] = rec["parent_id"] + suffix if rec["parent_id"] else None
                    created = start + (_time(rec["created_utc"]) - root_time)
                    created = min(created, datetime.combine(END_DAY, datetime.max.time(), UTC))
                    new["created_utc"] = created.strftime("%Y-%m-%dT%H:%M:%SZ")
                    if rec["url"]:
                        new["url"] = rec["url"].rstrip("/") + f"/{suffix}"
                    if not rec.get("deleted") and replica:  # distinct texts; [deleted] stays
                        new["body"] = f"{rec['body']} #{replica}"
                    month = new["created_utc"][:7]
                    if month not in files:
                        files[month] = (out / f"archive-{month}.jsonl").open("w", encoding="utf-8")
                    files[month].write(json.dumps(new, ensure_ascii=False) + "\n")
                    written += 1
                replica += 1
    finally:
        for f in files.values():
            f.close()
    return sorted(out / f"archive-{m}.jsonl" for m in files)


# -- running and measuring stages ------------------------------------------------------------
def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def db_mb(db: Path) -> float:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*")) / 1e6


def timed(name: str, cmd: list[str], db: Path, items: int) -> dict[str, Any]:
    """Run one stage as a child process; wall and CPU seconds, peak RSS, db size."""
    before = load()
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[tuple[float, str]] = []  # (seconds since start, line): progress timing
    for line in proc.stdout or ():
        lines.append((time.perf_counter() - start, line.rstrip("\n")))
    output = "\n".join(text for _, text in lines)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 2):  # 2: finished, an archive line or a source failed
        raise SystemExit(f"{name} failed ({code}):\n{output[-3000:]}")
    result = {
        "stage": name,
        "seconds": round(wall, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "items": items,
        "per_second": round(items / wall, 1) if wall else None,
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "db_mb": round(db_mb(db), 1),
        "load_before": before,
        "load_after": load(),
        "output": output.strip().splitlines()[-1:],
    }
    result.update(steady_rate(lines))
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return result


def steady_rate(lines: list[tuple[float, str]]) -> dict[str, Any]:
    """From `score`'s progress lines ("scored N (...)"): texts/s once the model is loaded
    and when the first chunk was done, so start-up is not extrapolated."""
    marks = [(t, int(m.group(1))) for t, text in lines if (m := re.match(r"scored (\d+) \(", text))]
    if len(marks) < 2:
        return {}
    (t1, n1), (t2, n2) = marks[0], marks[-1]
    return {
        "steady_per_second": round((n2 - n1) / (t2 - t1), 1) if t2 > t1 else None,
        "first_chunk_at": round(t1, 1),
        "first_chunk_texts": n1,
    }


def fill_scores(db: Path) -> int:
    """Give every post still without a score a copy of one from the scored slice (cycled
    by rowid), so that database size, summaries and queries are measured at full size.
    These rows are synthetic: they say nothing about the classifier."""
    start = time.perf_counter()
    with sqlite3.connect(db) as con:
        k = con.execute("SELECT COUNT(*) FROM scores").fetchone()[0]
        con.execute(
            "CREATE TEMP TABLE slice AS SELECT ROW_NUMBER() OVER () - 1 AS n, * FROM scores"
        )
        con.execute("CREATE INDEX temp.slice_n ON slice (n)")
        cur = con.execute(
            "INSERT INTO scores SELECT p.source, p.post_id, s.model_id, p.content_hash, "
            "s.relevance, s.relevant, s.stance, s.p_supportive, s.p_neutral, s.p_opposed, "
            "s.speculation, s.speculative, s.scored_at FROM posts p "
            "JOIN slice s ON s.n = p.rowid % ? WHERE NOT EXISTS (SELECT 1 FROM scores x "
            "WHERE x.source = p.source AND x.post_id = p.post_id)",
            [k],
        )
        filled = cur.rowcount
    print(
        f"filled {filled} synthetic score rows from {k} scored in "
        f"{time.perf_counter() - start:.0f} s",
        flush=True,
    )
    return filled


def count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as con:
        return int(con.execute(sql).fetchone()[0])


def query_latencies(db: Path, repeat: int = 3) -> list[dict[str, Any]]:
    """Median latency of each analyst query on a read-only connection (rows fetched)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    last = con.execute("SELECT MAX(day) FROM posts").fetchone()[0]
    some = con.execute(
        "SELECT source, thread_id, author, community FROM posts "
        "WHERE day = ? AND author IS NOT NULL LIMIT 1",
        [last],
    ).fetchone()
    params = {
        "day": last,
        "week": (date.fromisoformat(last) - timedelta(days=6)).isoformat(),
        "month": (date.fromisoformat(last) - timedelta(days=29)).isoformat(),
        "source": some["source"],
        "thread_id": some["thread_id"],
        "author": some["author"],
        "community": some["community"],
    }
    out = []
    for name, sql in QUERIES.items():
        times, rows = [], 0
        for _ in range(repeat):
            start = time.perf_counter()
            rows = len(con.execute(sql, params).fetchall())
            times.append(time.perf_counter() - start)
        plan = " / ".join(r[3] for r in con.execute("EXPLAIN QUERY PLAN " + sql, params))
        out.append(
            {
                "query": name,
                "ms": round(statistics.median(times) * 1000, 1),
                "rows": rows,
                "plan": plan,
            }
        )
        print(json.dumps(out[-1], ensure_ascii=False), flush=True)
    con.close()
    return out


def hardware() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({model}), {mem:.0f} GB RAM, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    work = args.work / f"n{args.posts}"
    if work.exists():
        shutil.rmtree(work)
    started = load()
    t0 = time.perf_counter()
    files = build_archive(args.posts, args.days, work / "archive")
    print(
        f"archive: {args.posts} posts in {len(files)} files, "
        f"{sum(f.stat().st_size for f in files) / 1e6:.0f} MB, "
        f"built in {time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    db = work / "sw.db"
    sw = [*STABLEWATCH, "--db", str(db)]
    stages = [
        timed(
            "collect",
            [*sw, "collect", "--quiet", *[a for f in files for a in ("--archive", str(f))]],
            db,
            args.posts,
        )
    ]
    texts = count(db, "SELECT COUNT(DISTINCT content_hash) FROM posts")
    slice_ = args.score_slice if args.score_slice and args.score_slice < texts else None
    scored = timed(
        "score", [*sw, "score", *(["--limit", str(slice_)] if slice_ else [])], db, slice_ or texts
    )
    if slice_:  # start-up and first chunk as measured, the rest at the steady rate
        rate = scored.get("steady_per_second") or scored["per_second"]
        rest = (texts - scored.get("first_chunk_texts", 0)) / rate
        wall = scored.get("first_chunk_at", 0.0) + rest
        scored["extrapolated_seconds"] = round(wall)
        scored["extrapolated_cpu_seconds"] = round(scored["cpu_seconds"] * wall / scored["seconds"])
        scored["texts"] = texts
    stages.append(scored)
    filled = fill_scores(db) if slice_ and args.fill_scores else 0
    stages.append(timed("summarize", [*sw, "summarize"], db, args.posts))
    last = count(db, "SELECT COUNT(*) FROM daily_summary")
    stages.append(timed("digest", [*sw, "digest", "--date", END_DAY.isoformat()], db, 1))
    queries = query_latencies(db)
    daily = None
    if args.daily:
        daily_db = work / "daily" / "sw.db"
        daily = timed(
            "daily (one process)",
            [
                *STABLEWATCH,
                "--db",
                str(daily_db),
                "daily",
                "--no-send",
                "--quiet",
                *[a for f in files for a in ("--archive", str(f))],
            ],
            daily_db,
            args.posts,
        )
    result = {
        "posts": args.posts,
        "days": args.days,
        "texts": texts,
        "filled": filled,
        "summary_rows": last,
        "score_slice": slice_,
        "hardware": hardware(),
        "load_at_start": started,
        "stages": stages,
        "queries": queries,
        "daily": daily,
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    if not args.keep:
        shutil.rmtree(work / "archive", ignore_errors=True)
    return result


def markdown(r: dict[str, Any]) -> str:
    slice_note = (
        f"; scoring measured on {r['score_slice']:,} texts and extrapolated to {r['texts']:,}"
        if r["score_slice"]
        else ""
    )
    if r.get("filled"):
        slice_note += (
            f"; the other {r['filled']:,} posts got copies of the slice's scores "
            "(synthetic) before summarize, so summaries, queries and size are at "
            "full size"
        )
    lines = [
        f"## {r['posts']:,} posts over {r['days']} days ({r['when']})",
        "",
        f"{r['hardware']}; load average {r['load_at_start']} at the start"
        f"{slice_note}. {r['texts']:,} distinct texts, {r['summary_rows']:,} summary rows.",
        "",
        "| stage | wall s | CPU s | per s | peak RSS MB | db MB | load before → after |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    total_wall = total_cpu = 0.0
    for s in r["stages"] + ([r["daily"]] if r["daily"] else []):
        wall, cpu = s["seconds"], s["cpu_seconds"]
        name = s["stage"]
        if "extrapolated_seconds" in s:
            name += f" ({r['score_slice']:,} texts)"
        rate = f"{s['per_second']}" + (
            f" (steady {s['steady_per_second']})" if s.get("steady_per_second") else ""
        )
        lines.append(
            f"| {name} | {wall} | {cpu} | {rate} | {s['peak_rss_mb']} | "
            f"{s['db_mb']} | {s['load_before']} → {s['load_after']} |"
        )
        if "extrapolated_seconds" in s:
            wall, cpu = s["extrapolated_seconds"], s["extrapolated_cpu_seconds"]
            lines.append(
                f"| score, all {s['texts']:,} texts (extrapolated) | {wall} | {cpu} | "
                f"{s.get('steady_per_second')} | | | |"
            )
        if s is not r["daily"]:
            total_wall += wall
            total_cpu += cpu
    lines.append(f"| **stages together** | **{total_wall:.0f}** | **{total_cpu:.0f}** | | | | |")
    lines += ["", "| query | ms (median of 3) | rows | plan |", "| --- | --- | --- | --- |"]
    lines += [f"| {q['query']} | {q['ms']} | {q['rows']} | {q['plan']} |" for q in r["queries"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument(
        "--score-slice",
        type=int,
        default=0,
        help="score only this many texts and extrapolate (0: score all); "
        "a few thousand, so that the steady rate after the first "
        "256-text call (jobs.scoring.SCORE_CHUNK) is measured",
    )
    parser.add_argument(
        "--fill-scores",
        action="store_true",
        help="with --score-slice: copy the slice's scores to every other post "
        "(synthetic) so that summaries, queries and size are full-size",
    )
    parser.add_argument(
        "--daily", action="store_true", help="also time `daily --archive` on a fresh database"
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/stablewatch-scale"))
    parser.add_argument("--keep", action="store_true", help="keep the archive files")
    parser.add_argument(
        "--write", action="store_true", help=f"append the results to {RESULTS.relative_to(ROOT)}"
    )
    args = parser.parse_args()
    result = run(args)
    text = markdown(result)
    print(text)
    (args.work / f"n{args.posts}" / "result.json").write_text(json.dumps(result, indent=1))
    if args.write:
        with RESULTS.open("a", encoding="utf-8") as f:
            f.write("\n" + text)


if __name__ == "__main__":
    main()
