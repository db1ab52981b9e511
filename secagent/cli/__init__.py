"""The `secagent` command line: one module per command, `main.main()` is the entry point."""
