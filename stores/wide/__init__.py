"""The wide-column engine, modelled on Cassandra 5. Never imports Django."""
