"""Through Telegram: the real bot process against the loopback Bot API fake, 50 users at once.

The bot runs as its own process (``python bot.py``), exactly as deployed, so its
start-up and its peak RSS are its own. Users send in rounds: each of the 50 sends
one question, and the next round starts when all 50 were answered.  Runs alternate
between the question log on (QUESTION_LOG_DAYS=30, the default: the main figures)
and off (``log_off``), so the log's cost is a ratio taken in one run.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from .checkout import BOT_SCRIPT, child_pythonpath, load_fixture
from .context import BenchContext, SectionUnavailable
from .stats import Figure, child_env, percentile

START_TIMEOUT_S = 120.0
ROUND_TIMEOUT_S = 120.0
WARM_UP_MESSAGES = 5


class RssSampler:
    """Peak resident memory of a process: the kernel's high-water mark, else sampled every 20 ms."""

    def __init__(self, pid: int) -> None:
        import psutil

        self._process = psutil.Process(pid)
        self._pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            try:
                self.peak = max(self.peak, self._process.memory_info().rss)
            except Exception:  # the process ended between two samples
                return

    def stop(self) -> int:
        """Stop sampling; the peak in bytes (call before the process exits)."""
        status = Path(f"/proc/{self._pid}/status")
        if status.exists():  # Linux keeps the exact peak (VmHWM), which sampling can miss
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.peak = max(self.peak, int(line.split()[1]) * 1024)
        self._stop.set()
        self._thread.join(timeout=1)
        return self.peak


def _cpu_seconds(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def _wait_ready(fake: Any, process: subprocess.Popen[bytes], started: float) -> float:
    """Seconds from spawn to the bot's first getUpdates (post_init done, polling started)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        calls = fake.calls_of("getUpdates")
        if calls:
            return calls[0].at - started
        if process.poll() is not None:
            raise RuntimeError(f"the bot exited with {process.returncode} before it was ready")
        time.sleep(0.01)
    raise TimeoutError(f"the bot was not ready within {START_TIMEOUT_S:.0f} s")


def _one_run(ctx: BenchContext, fake_module: Any, rounds: int, log_path: Path, question_log_days: int) -> dict[str, float]:
    fake = fake_module.FakeBotAPI().start()
    env = child_env(
        ctx.settings,
        QUESTION_LOG_DAYS=str(question_log_days),
        TELEGRAM_BOT_TOKEN=fake.token,
        TELEGRAM_BASE_URL=fake.base_url,
        USER_RATE_LIMIT=str(10**6),  # the limiter is not under test: 50 users send many questions
        # Telegram's own cap (30 messages/s overall, enforced by AIORateLimiter) would measure Telegram, not us;
        # the loopback API has none. Per-group limits and 429 handling stay on.
        TELEGRAM_MAX_RATE="0",
        LOG_LEVEL="WARNING",
        PYTHONPATH=child_pythonpath(),
    )
    with tempfile.TemporaryDirectory(prefix="bench-bot-") as cwd, log_path.open("ab") as log_file:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, str(BOT_SCRIPT)], cwd=cwd, env=env,
                                   stdout=subprocess.DEVNULL, stderr=log_file)
        sampler = RssSampler(process.pid)
        try:
            ready = _wait_ready(fake, process, started)
            questions, users = ctx.texts, ctx.plan.users
            sent = 0

            def send_round(count: int) -> tuple[float, list[int]]:
                """Enqueue ``count`` questions from distinct users and wait for every reply."""
                nonlocal sent
                first = time.perf_counter()
                ids = fake.enqueue_many(
                    fake.private_message(questions[(sent + u) % len(questions)], user_id=10_000 + u) for u in range(count)
                )
                sent += count
                fake.wait_for_calls("sendMessage", count=sent, timeout=ROUND_TIMEOUT_S)
                return time.perf_counter() - first, ids

            send_round(WARM_UP_MESSAGES)
            bot_cpu, bench_cpu = _cpu_seconds(process.pid), time.process_time()
            timed = [send_round(users) for _ in range(rounds)]
            bot_cpu, bench_cpu = _cpu_seconds(process.pid) - bot_cpu, time.process_time() - bench_cpu
            seconds = sum(t for t, _ in timed)
            timed_ids = {i for _, ids in timed for i in ids}
            latencies = [v for k, v in fake.reply_latencies().items() if k in timed_ids]
        finally:
            peak = sampler.stop()
            process.send_signal(signal.SIGINT)  # the bot's own graceful stop
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            fake.stop()
    failed = sum(1 for c in fake.calls_of("sendMessage") if "went wrong" in str(c.params.get("text", "")))
    return {
        "ready_s": ready,
        "messages_per_s": users * rounds / seconds,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "peak_rss_mb": peak / 2**20,
        # CPU per message bounds throughput on 2 cores; the fake Bot API's share is CPU Telegram would spend.
        "bot_cpu_ms_per_message": bot_cpu * 1000 / (users * rounds),
        "fake_api_cpu_ms_per_message": bench_cpu * 1000 / (users * rounds),
        "failed_replies": failed,
    }


def _question_log_ms(ctx: BenchContext, answers: int = 200) -> dict[str, float]:
    """What logging one answer costs the bot, in ms: on the event loop (its entry built and counted, the write
    handed to the log thread: the time an answer waits) and until its row is durable (an fsync, in the log thread
    while the reply goes out)."""
    from telegram_bot.metrics import BotMetrics
    from telegram_bot.questions import QuestionRecorder, logged_answer

    engine = ctx.engine()
    answer = engine.answer(ctx.texts[0])
    metrics = BotMetrics.create()

    async def measure(folder: Path) -> tuple[list[float], list[float]]:
        recorder = await asyncio.to_thread(QuestionRecorder.open, folder, 30, "0:bench")
        on_loop, durable = [], []
        for i in range(answers):
            started = time.perf_counter()
            documents = {d.doc_id: d for d in engine.documents}  # as BotState.documents() builds it per answer
            entry = logged_answer(answer, f"bench{i}", "private", documents, time.time())
            metrics.count_question(entry.outcome, answer.latency_ms / 1000)
            writing = asyncio.ensure_future(recorder.record(entry))
            on_loop.append(time.perf_counter() - started)
            await writing
            durable.append(time.perf_counter() - started)
        recorder.close()
        return on_loop, durable

    with tempfile.TemporaryDirectory(prefix="bench-log-") as folder:
        on_loop, durable = asyncio.run(measure(Path(folder)))
    return {f"{name}_p{q}_ms": round(percentile(values, q) * 1000, 3)
            for name, values in (("loop", on_loop), ("durable", durable)) for q in (50, 95)}


def bench_telegram(ctx: BenchContext) -> dict[str, Any]:
    if not BOT_SCRIPT.exists():
        raise SectionUnavailable(f"{BOT_SCRIPT} is not here")
    try:
        import psutil  # noqa: F401 - the `bench` extra
    except ImportError as exc:
        raise SectionUnavailable("psutil is not installed (pip install '.[bench]')") from exc
    fake_module = load_fixture("telegram_fake")
    ctx.engine()  # the bot opens the existing index, as in production
    log_path = Path(tempfile.gettempdir()) / "bench-bot.log"
    runs: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    for run in range(ctx.plan.telegram_runs):
        # Interleaved on-off, off-on, ...: a load that rises or falls during the section weighs on both alike.
        for logged in (True, False) if run % 2 == 0 else (False, True):
            runs[logged].append(_one_run(ctx, fake_module, ctx.plan.telegram_rounds, log_path, 30 if logged else 0))
    figures: dict[str, Any] = {"users": ctx.plan.users, "messages_per_run": ctx.plan.users * ctx.plan.telegram_rounds}
    units = {"ready_s": "s", "messages_per_s": "msg/s", "p50_ms": "ms", "p95_ms": "ms", "peak_rss_mb": "MB",
             "bot_cpu_ms_per_message": "ms", "fake_api_cpu_ms_per_message": "ms"}
    for key, unit in units.items():
        figures[key] = Figure.of((r[key] for r in runs[True]), unit).to_json()
    figures["log_off"] = {key: Figure.of((r[key] for r in runs[False]), units[key]).to_json()
                          for key in ("messages_per_s", "p50_ms", "p95_ms", "bot_cpu_ms_per_message")}
    figures["log_throughput_ratio"] = round(
        figures["messages_per_s"]["median"] / figures["log_off"]["messages_per_s"]["median"], 3
    )
    figures["question_log"] = _question_log_ms(ctx)
    figures["failed_replies"] = int(sum(r["failed_replies"] for group in runs.values() for r in group))
    figures["bot_log"] = str(log_path)
    return figures
