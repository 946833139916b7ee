"""``python -m stateset_voice_wrapper.cli``."""

from ._main import main

raise SystemExit(main())
