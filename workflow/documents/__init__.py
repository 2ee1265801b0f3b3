"""Official papers: each dispositif's document model and its canonical text (what is shown,
hashed and signed), its versions and avenants, who signs which version, and the sealed
PDF's record. Rendering to HTML/PDF and sealing are edges, in ``api/documents``."""
