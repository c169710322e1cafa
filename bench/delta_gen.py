#!/usr/bin/env python3
"""The synthetic pair of bench/delta.sh: an old asset A and a new asset B.

Usage: bench/delta_gen.py SIZE CHANGE EDITS SEED A B

A is SIZE pseudo-random bytes (random.Random(SEED), 1 MiB at a time, so no stretch of A
repeats elsewhere in it). B is A with EDITS edits at random places, each an insertion of new
random bytes, a deletion or an overwrite with new random bytes (kind chosen at random), whose
lengths are log-uniformly spread (a few bytes to a few MiB, like the files inside a packaged
binary) and add up to CHANGE * SIZE bytes. Insertions and deletions shift everything after
them, as a grown or shrunk library inside a PyInstaller binary does. The edits do not
overlap: edit i falls at a random place inside the i-th of EDITS equal stretches of A.
Everything is determined by the arguments. Prints a JSON summary on stdout.
"""

import json
import math
import random
import sys

BLOCK = 1 << 20


def main() -> None:
    size, change, edits, seed = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    path_a, path_b = sys.argv[5], sys.argv[6]
    plan = random.Random(seed ^ 0x5EED)
    weights = [math.exp(plan.uniform(0, math.log(4000))) for _ in range(edits)]
    total = int(change * size)
    lengths = [max(1, round(w / sum(weights) * total)) for w in weights]
    stretch = size // edits
    # (offset in A, kind, length), in order; each inside its own stretch of A.
    script = []
    for i, n in enumerate(lengths):
        n = min(n, stretch - 1)
        kind = plan.choice(("insert", "delete", "overwrite"))
        script.append((i * stretch + plan.randrange(stretch - n), kind, n))

    rng = random.Random(seed)
    with open(path_a, "wb") as a:
        left = size
        while left:
            n = min(BLOCK, left)
            a.write(rng.randbytes(n))
            left -= n

    fresh = random.Random(seed + 1)

    def new_bytes(out, n: int) -> None:
        while n:
            k = min(BLOCK, n)
            out.write(fresh.randbytes(k))
            n -= k

    done = {"insert": 0, "delete": 0, "overwrite": 0}
    with open(path_a, "rb") as a, open(path_b, "wb") as b:
        pos = 0

        def copy_to(end: int) -> None:
            nonlocal pos
            while pos < end:
                chunk = a.read(min(8 * BLOCK, end - pos))
                b.write(chunk)
                pos += len(chunk)

        for offset, kind, n in script:
            copy_to(offset)
            if kind in ("insert", "overwrite"):
                new_bytes(b, n)
            if kind in ("delete", "overwrite"):
                a.seek(offset + n)
                pos = offset + n
            done[kind] += n
        copy_to(size)
        size_b = b.tell()

    changed = sum(done.values())
    json.dump(
        {
            "seed": seed,
            "size_a": size,
            "size_b": size_b,
            "edits": edits,
            "inserted": done["insert"],
            "deleted": done["delete"],
            "overwritten": done["overwrite"],
            "changed": changed,
            "changed_share": changed / size,
            "shortest_edit": min(n for _, _, n in script),
            "longest_edit": max(n for _, _, n in script),
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
