"""HTML reports and plots: self-contained pages (``html``), PNG plots (``plots``), safe
Markdown (``markdown``) and ``chimera run``'s page (``run``). Nothing here is imported at
start-up; import the submodule you need (matplotlib loads only when a plot is drawn)."""
