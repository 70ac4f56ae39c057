"""Database models. Import from here: `from aict.models import User, Workspace, ...`."""

from aict.models.audit import AuditChainHead, AuditEvent
from aict.models.commands import Command
from aict.models.recordings import RecordingChunk
from aict.models.sessions import TerminalSession
from aict.models.user_settings import UserSettings
from aict.models.users import Login, TrustedDevice, User
from aict.models.workspaces import Workspace, WorkspaceMember

__all__ = ["AuditChainHead", "AuditEvent", "Command", "Login", "RecordingChunk", "TerminalSession", "TrustedDevice",
           "User", "UserSettings", "Workspace", "WorkspaceMember"]
