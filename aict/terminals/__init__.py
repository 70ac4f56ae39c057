"""Live terminals, with no Flask and no database: the Backend protocol, the local PTY, the
LiveTerminal core (stream, ring, viewers, flow control) and the manager that holds them."""
