"""`flask aict ...` commands."""

from __future__ import annotations

import click
from flask import Flask, current_app

from aict.errors import AppError
from aict.services import users


def register(app: Flask) -> None:
    group = click.Group("aict", help="Manage aict: users, stored credentials, the audit log, recordings.")

    @group.command("create-user")
    @click.argument("username")
    @click.option("--admin", is_flag=True, help="Give the user the admin role.")
    @click.password_option(help="The password (asked for when not given).")
    def create_user_command(username: str, admin: bool, password: str) -> None:
        """Create a user."""
        try:
            users.create_user(username, password, "admin" if admin else "user", source="cli")
        except AppError as exc:
            raise click.ClickException(exc.message) from None
        click.echo(f"Created {'admin' if admin else 'user'} {username}.")

    @group.command("ensure-admin")
    def ensure_admin() -> None:
        """Create the first admin unless one exists (AICT_ADMIN_USER / AICT_ADMIN_PASSWORD, or generated)."""
        try:
            click.echo(users.first_admin_message(users.ensure_first_admin(current_app.config["AICT"])))
        except AppError as exc:
            raise click.ClickException(exc.message) from None

    @group.command("set-password")
    @click.argument("username")
    @click.password_option()
    def set_password(username: str, password: str) -> None:
        """Reset a user's password; every login of theirs ends (their sockets are closed)."""
        try:
            if not users.set_password(username, password):
                raise click.ClickException(f"No user named {username}.")
        except AppError as exc:
            raise click.ClickException(exc.message) from None
        click.echo(f"Password of {username} changed; every login of theirs has ended.")

    @group.command("rotate-credentials")
    def rotate_credentials() -> None:
        """Re-encrypt stored SSH credentials with the first key of AICT_ENCRYPTION_KEY."""
        from aict.services.ssh_workspaces import reseal_all_credentials

        resealed, unreadable = reseal_all_credentials()
        click.echo(f"Re-encrypted the credentials of {resealed} SSH workspace(s) with the first key.")
        if unreadable:
            raise click.ClickException(f"{unreadable} workspace(s) have credentials no configured key opens; "
                                       "keep their old key in AICT_ENCRYPTION_KEY or enter them again.")

    @group.command("audit-verify")
    def audit_verify() -> None:
        """Check the audit chain and its checkpoints; name the first altered, missing, inserted or
        cut-off event. Exits 1 when the check fails."""
        from aict.services.audit_log import verify_chain

        verdict = verify_chain()
        legacy = f" ({verdict.legacy} from before the chain was keyed, checked unkeyed)" if verdict.legacy else ""
        if verdict.ok:
            click.echo(f"Audit log intact: {verdict.checked} event(s) checked{legacy}.")
            return
        raise click.ClickException(f"Audit log check FAILED: event {verdict.first_bad_id} {verdict.reason} "
                                   f"({verdict.checked} event(s) checked before it){legacy}.")

    @group.command("purge-recordings")
    @click.option("--older-than", "days", type=click.FloatRange(min=0), default=None, metavar="DAYS",
                  help="Purge recordings of terminals that ended more than DAYS ago "
                       "(default: RECORDING_RETENTION_DAYS).")
    def purge_recordings_command(days: float | None) -> None:
        """Delete the recordings of terminals that ended long ago, in batches; audited (recording_purge)."""
        from aict.services.recording_retention import purge_recordings

        if days is None:
            days = current_app.config["AICT"].RECORDING_RETENTION_DAYS
            if days <= 0:
                click.echo("RECORDING_RETENTION_DAYS is 0: recordings are kept forever. "
                           "Pass --older-than DAYS to purge anyway.")
                return
        purged = purge_recordings(days, by="cli")
        click.echo(f"Purged {purged.rows} recording row(s), {purged.bytes} bytes stored, of {purged.sessions} "
                   f"terminal(s) that ended before {purged.cutoff.isoformat(timespec='seconds')}Z.")

    app.cli.add_command(group)
