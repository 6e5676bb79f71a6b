"""The command line: one module per command; parses, validates, calls the library, prints."""
