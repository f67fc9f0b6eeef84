"""Report writers: one pure ``render`` per output format; only the CLI writes files."""
