"""Live workspace status: git state and file changes of watched workspaces (issue 20, PROTOCOL v1.1).

The terminal host runs one watcher per watched workspace, whoever and however many watch it:
local workspaces through an agent process that runs as the workspace's shell account (agent.py),
SSH workspaces through a bounded poll over the workspace's SSH connection rules (ssh_poll.py).
porcelain.py and changes.py are plain functions the agent imports by file (it runs without aict).
"""
