"""``python -m stores.kv``: run the RESP server (see ``stores.kv.server_cli``)."""

import sys

from stores.kv.server_cli import main

sys.exit(main())
