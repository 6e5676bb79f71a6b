"""Benchmarks built on the agent: concurrent multi-agent scenarios, their maths and reports."""
