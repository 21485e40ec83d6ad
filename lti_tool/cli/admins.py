"""`skillpath admin ...`: local accounts of the admin console. Passwords are typed at a
prompt (never on the command line, where shells and process lists keep them) or read from
standard input with --password-stdin."""

from __future__ import annotations

import click

from lti_tool.cli.support import opened, read_password
from lti_tool.usecases import admin_accounts


@click.group("admin")
def admin() -> None:
    """Local accounts of the admin console (/admin)."""


@admin.command("create")
@click.option("--username", required=True, help="The name to sign in with.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def admin_create(username: str, password_stdin: bool) -> None:
    """Create a local admin (sees and changes everything in the console)."""
    password = read_password(password_stdin)
    with opened() as container:
        created = admin_accounts.create_admin(container, username, password)
    click.echo(f"created admin {created.username}; sign in at {container.settings.base_url}/admin")


@admin.command("password")
@click.option("--username", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def admin_password(username: str, password_stdin: bool) -> None:
    """Set a new password for a local admin."""
    password = read_password(password_stdin)
    with opened() as container:
        admin_accounts.set_password(container, username, password)
    click.echo(f"new password set for {username}")


@admin.command("list")
def admin_list() -> None:
    """List the local admins."""
    with opened() as container:
        accounts = admin_accounts.list_admins(container)
    if not accounts:
        click.echo("no local admins: create one with `skillpath admin create --username NAME`")
    for account in accounts:
        last = (
            account.last_login_at.strftime("%Y-%m-%d %H:%M UTC")
            if account.last_login_at
            else "never"
        )
        click.echo(f"{account.username}  (last sign-in: {last})")
