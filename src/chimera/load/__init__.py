"""``chimera load``: a serving benchmark that holds a load on a server and measures each request.

Layers, imports one way: ``spec`` (settings, SLOs) and ``arrivals`` (send schedules) are pure;
``prompts`` builds the requests; ``runner`` drives them through a backend on one event loop;
``metrics`` turns per-request records into per-level figures; ``report`` renders them;
``output`` writes the JSONL and the store.
"""
