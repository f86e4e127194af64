"""The command line: thin click commands, one module per group, on one `main` group.

    main.py     the `publisher` group, which gathers the commands below
    options.py  --config/--seeds/--out/-v and --db, and errors turned into messages and exit codes
    site.py     check, build, serve, ping, new
    mail.py     subscribers (import, export, add, remove, forget, list), unsubscribe, send, listen (the endpoint)
    server.py   db upgrade, bounces: a list run on a server

Heavy imports happen inside each command, so `publisher --help` stays fast.
"""

from .main import main

__all__ = ["main"]
