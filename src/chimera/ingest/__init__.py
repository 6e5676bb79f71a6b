"""Artifact ingestion: a folder of benchmark files -> inventory, facts, statistics, findings."""

from chimera.ingest.pipeline import IngestResult, ingest_paths
from chimera.ingest.settings import IngestSettings, load_settings

__all__ = ["IngestResult", "IngestSettings", "ingest_paths", "load_settings"]
