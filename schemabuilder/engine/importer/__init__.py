"""Import: an existing schema written as a blueprint, and what it could not say."""
