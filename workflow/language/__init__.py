"""The domain's words: closed vocabularies with their French labels, and French dates and hours."""
