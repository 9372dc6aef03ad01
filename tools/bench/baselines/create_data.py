#!/usr/bin/env python3
"""A typical Python implementation of the assignment's data generator, the baseline for `bench datagen`.

Usage: create_data.py KEYFILE LINES MAX_DEPTH MAX_KEYS MAX_LENGTH OUTFILE
Same rules as kv-gen (distinct keys per document, 0..m keys, strings 1..l of [A-Za-z0-9]).
"""
import random
import string
import sys

ALPHABET = string.ascii_letters + string.digits


def value(kind, max_length):
    if kind == "int":
        return str(random.randrange(1000))
    if kind == "float":
        return repr(random.randrange(100000) / 100)
    return '"' + "".join(random.choice(ALPHABET) for _ in range(random.randint(1, max_length))) + '"'


def document(keys, depth, max_depth, max_keys, max_length):
    chosen = random.sample(keys, random.randint(0, max_keys))
    if not chosen:
        return "{}"
    parts = []
    for name, kind in chosen:
        if depth < max_depth and random.random() < 0.25:
            v = document(keys, depth + 1, max_depth, max_keys, max_length)
        else:
            v = value(kind, max_length)
        parts.append('"%s" : %s' % (name, v))
    return "{ " + " ; ".join(parts) + " }"


def main():
    key_file, lines, max_depth, max_keys, max_length, out = sys.argv[1:7]
    keys = []
    with open(key_file) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                name, kind = line.split()
                keys.append((name, kind))
    with open(out, "w") as f:
        for i in range(1, int(lines) + 1):
            f.write('"key%d" : %s\n' % (i, document(keys, 0, int(max_depth), int(max_keys), int(max_length))))


main()
