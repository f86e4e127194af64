"""Building: the pipeline that turns the seeds into `out/`, and the tools around a build.

    pipeline.py  `build()` and `check()`: every stage in order, in one screen
    uptodate.py  whether out/ is already the build of these inputs, from stats alone (a no-op build)
    workers.py   per-digest rendering in worker processes, in job order
    cache.py     the content-addressed cache of parsed digests and rendered parts
    search.py    the search index: Pagefind run over the notes, one group of the build a shard
    writer.py    the only writer to `out/`: atomic swap, unchanged files kept, stale ones pruned
    outdir.py    what belongs to `out/` itself: its lock (beside it), the id of the tree it holds, the
                 folders beside it (staging, spare) and the atomic swap
    records.py   small JSON records written atomically (the writer's manifest, the last build), one
                 of each kind per output folder
    report.py    what `publisher check` prints of the model
    serve.py     `publisher serve`: a local server that rebuilds on change
    preview.py   `serve`'s first answer to a saved digest: its page, rendered alone, from memory
    ping.py      `publisher ping`: tells the WebSub hub which feeds changed

The command line uses `uptodate`, `pipeline.build`/`check`, `serve`, `ping` and `report`.
"""
