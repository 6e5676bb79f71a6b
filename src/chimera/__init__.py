"""Chimera: benchmark-analysis agent and benchmark harness for locally hosted LLMs."""

__version__ = "0.1.0"
