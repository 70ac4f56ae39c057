"""SSH, with no Flask and no database: target rules, keys, host-key offers, connecting, the channel backend."""
