"""The resources of one of the two clients, one module per collection.

`resources/_async`, `AsyncClient`'s, is the source, written by hand;
tools/generate_sync.py makes `resources/_sync`, `Client`'s, of it with
unasync (`async` and `await` dropped, `AsyncApp` read as `App`, ...). So the
docstrings of both speak of either client, and every name that differs
between the two is a whole token.
"""
