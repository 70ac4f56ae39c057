"""A workspace's files, read and written with the rights of the account its shells run as.

local.py: a local workspace, through a worker the terminal host starts as the shell account
(worker.py, launch.py); sftp.py: an SSH workspace, over SFTP as its remote user. Both offer the
same three operations (list, open_read, open_write), streamed in chunks. No Flask, no database.
"""
