"""What aict/ssh/connect.py's BastionTransport relies on in paramiko.

It answers channel requests through its own entry in paramiko's `_channel_handler_table` to
note how a remote command ended (paramiko ignores exit-signal), then hands the message on to
paramiko's own handler. The patch stays beside the SSH code that uses it; its check is here.
"""

from __future__ import annotations

import paramiko
from paramiko.common import MSG_CHANNEL_REQUEST

from aict.realtime.transport.versions import attribute_problems, method_problem, problem, problems_in

PACKAGE = "paramiko"


def shape_problems() -> list[str]:
    table = getattr(paramiko.Transport, "_channel_handler_table", None)
    handles_requests = isinstance(table, dict) and table.get(MSG_CHANNEL_REQUEST) is getattr(
        paramiko.Channel, "_handle_request", None)
    message = paramiko.Message()
    return problems_in(
        None if handles_requests else problem(PACKAGE, "Transport._channel_handler_table does not send channel "
                                                       "requests to Channel._handle_request"),
        method_problem(PACKAGE, paramiko.Channel, "_handle_request", ("self", "m")),
        attribute_problems(PACKAGE, paramiko.Channel(0), ("status_event",), "a paramiko Channel"),
        attribute_problems(PACKAGE, message.packet, ("tell", "seek"), "a paramiko Message's packet"),
    )
