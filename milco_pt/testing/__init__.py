"""Helpers for tests and smoke runs: tiny random models in the released layouts (:mod:`.tiny`) and
small collections written in each benchmark's upstream format (:mod:`.fixtures`). Inference code
never imports this package."""
