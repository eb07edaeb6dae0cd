"""The life of a lot (pure): events, custody state, composition, rules."""
