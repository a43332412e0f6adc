"""python -m autoconf -> cli.main()."""

from autoconf.cli import main

raise SystemExit(main())
