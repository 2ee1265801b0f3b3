"""Official papers: the contract text that is signed, and the signatures."""
