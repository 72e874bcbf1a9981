#!/usr/bin/env python3
"""Encode throughput of Hugging Face `tokenizers` (one thread), the reference for `remamba tokenize --bench-file`.

    /work/venv/bin/python scripts/bench_tokenizer.py [--out /tmp/tokbench]

Writes (not committed; regenerated identically from a seed):
  <out>/bench.txt               >= 10 MB of mixed text (prose-like words, code, URLs, numbers, accented and
                                combining characters, CJK, Arabic, emoji) in documents separated by blank lines
  <out>/tokenizer.json          a GPT-NeoX-style tokenizer (NFC, ByteLevel, 50k vocab, <|endoftext|>, whitespace
                                added tokens) trained here on the first 2 MB, merges written as "a b" strings
  <out>/docs200.json, ids.json  the first 200 documents and their ids, to check the Swift encoder against

Then prints MB/s of `encode_batch` over the documents (bench.txt split at "\n\n", exactly as the Swift side
splits it) with RAYON_NUM_THREADS=1 (first pass with a cold cache, and best of three), and of one `encode` call
on the whole text. With --remamba it also runs the Swift side and the id check:

  swift build -c release --scratch-path .build-tok --product remamba
  /work/venv/bin/python scripts/bench_tokenizer.py --remamba .build-tok/release/remamba
"""
import argparse
import importlib.util
import json
import os
import random
import subprocess
import time
from pathlib import Path

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

from tokenizers import Tokenizer  # noqa: E402

HERE = Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location("tokenizer_fixtures", HERE / "fixtures" / "tokenizers.py")
fixtures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fixtures)


def documents(rng, total_bytes):
    """Documents of ~2-8 KB: mostly plain word sentences with a share of the fixture generator's mix."""
    docs, size = [], 0
    while size < total_bytes:
        lines = []
        for _ in range(rng.randint(8, 40)):
            if rng.random() < 0.5:
                line = " ".join(fixtures.fragment(rng) if rng.random() < 0.3 else rng.choice(fixtures.ENGLISH)
                                for _ in range(rng.randint(5, 30)))
            else:
                line = fixtures.sentence(rng, rng.randint(3, 30))
            lines.append(line)
        doc = "\n".join(lines)
        while "\n\n" in doc:  # blank lines separate documents
            doc = doc.replace("\n\n", "\n")
        docs.append(doc)
        size += len(doc.encode()) + 2
    return docs


def throughput(nbytes, seconds):
    return nbytes / 1e6 / seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="/tmp/tokbench")
    parser.add_argument("--megabytes", type=float, default=10.5)
    parser.add_argument("--remamba", help="path of a release-built remamba binary to compare")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    rng = random.Random(7)
    text = "\n\n".join(documents(rng, int(args.megabytes * 1e6)))
    # newline="" keeps "\r" and "\r\n" as they are (Python would translate them otherwise).
    with open(out / "bench.txt", "w", encoding="utf-8", newline="") as f:
        f.write(text)
    docs = text.split("\n\n")
    nbytes = len(text.encode())

    training = documents(random.Random(8), 2_000_000)
    tok = fixtures.build_neox(training, vocab_size=50_000)
    fixtures.save(tok, out / "tokenizer.json", merges_as_strings=True)
    print(f"text: {nbytes / 1e6:.2f} MB in {len(docs)} documents; vocab {tok.get_vocab_size()}")

    ids = [e.ids for e in Tokenizer.from_file(str(out / "tokenizer.json")).encode_batch(docs[:200])]
    (out / "ids.json").write_text(json.dumps(ids))
    (out / "docs200.json").write_text(json.dumps(docs[:200]))

    passes = []
    for _ in range(3):
        fresh = Tokenizer.from_file(str(out / "tokenizer.json")) if not passes else tok_bench
        tok_bench = fresh
        start = time.perf_counter()
        tok_bench.encode_batch(docs)
        passes.append(time.perf_counter() - start)
    whole = Tokenizer.from_file(str(out / "tokenizer.json"))
    start = time.perf_counter()
    whole.encode(text)
    whole_seconds = time.perf_counter() - start
    print(f"tokenizers encode_batch, 1 thread: first pass {throughput(nbytes, passes[0]):.2f} MB/s, "
          f"best of 3 {throughput(nbytes, min(passes)):.2f} MB/s")
    print(f"tokenizers encode(whole text), 1 thread: {throughput(nbytes, whole_seconds):.2f} MB/s")

    if args.remamba:
        tokenizer = str(out / "tokenizer.json")
        subprocess.run([args.remamba, "tokenize", "--tokenizer", tokenizer, "--bench-file", str(out / "bench.txt")],
                       check=True)
        swift = json.loads(subprocess.run([args.remamba, "tokenize", "--tokenizer", tokenizer, "--input",
                                           str(out / "docs200.json")], check=True, capture_output=True).stdout)
        same = sum(a == b for a, b in zip(swift, ids))
        print(f"ids identical on {same}/{len(ids)} benchmark documents")


if __name__ == "__main__":
    main()
