"""The key-value engine, modelled on Redis 7. Never imports Django."""
