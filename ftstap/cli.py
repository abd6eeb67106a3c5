"""Command line (placeholder, being written)."""


def main():
    raise SystemExit("ftstap: not yet")
