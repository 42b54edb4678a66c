"""`python -m gan_core.cli ...`: the same as the `gan-core` command."""
import sys

from gan_core.cli.main import main

sys.exit(main())
