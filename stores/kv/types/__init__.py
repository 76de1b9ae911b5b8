"""One module per Redis data type; each registers its commands in the command table."""
