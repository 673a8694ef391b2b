"""Drivers above the library: the demo, ad-hoc experiments and plots (what the CLI and the
table scripts run). Nothing under ``milco_pt`` outside this package and the CLI imports it."""
