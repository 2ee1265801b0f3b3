"""The official papers' edges: HTML and PDF rendering, sealing, storing the sealed PDFs."""
