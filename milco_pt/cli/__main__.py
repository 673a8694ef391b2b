"""``python -m milco_pt.cli`` (e.g. under torchrun)."""
from . import main

main()
