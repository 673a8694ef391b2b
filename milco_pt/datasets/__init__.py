"""Test collections: Debian's translated package descriptions (DDTP) and local collections."""
