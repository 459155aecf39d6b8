"""``python -m streaming_labeling``: the ``streaming-labeling`` command line."""

from .cli.app import main

main()
