"""`python -m watcher` runs the seedfeed command line."""

from watcher.cli import main

raise SystemExit(main())
