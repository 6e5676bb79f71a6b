"""The application layer: each command's lifecycle (store run, files, HTML, Ctrl-C) above
the agent and the benchmarks, which return values."""
