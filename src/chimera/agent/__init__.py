"""The Chimera agent: personas, prompts, the two-call workflow, fact check and reports."""
