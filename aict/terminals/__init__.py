"""Terminal backends (local PTY, SSH channel) and the backend-independent Session core."""
