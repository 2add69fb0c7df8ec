"""The cron jobs work as the operations guide writes them: every command reads instance/mhfa.env (the base
URL of links among the settings), and send-reminders delivers the emails it queues."""
from datetime import datetime, timedelta

import pytest

from mhfa import config
from mhfa.auth.models import Role
from mhfa.extensions import db
from tests import factories


def test_every_command_reads_the_instance_settings_file_and_the_environment_wins(tmp_path, monkeypatch):
    (tmp_path / "mhfa.env").write_text("# the deployment's settings\nMHFA_BASE_URL=https://reach.example.gov.uk/\n"
                                       "export MAIL_PORT='2525'\n\nMHFA_CONTACT_EMAIL=\"team@example.gov.uk\"\n")
    for name in ("MHFA_BASE_URL", "MAIL_PORT", "MHFA_CONTACT_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    settings = config.from_environment(str(tmp_path))
    assert settings["MHFA_BASE_URL"] == "https://reach.example.gov.uk"
    assert settings["MAIL_PORT"] == 2525 and settings["MHFA_CONTACT_EMAIL"] == "team@example.gov.uk"
    monkeypatch.setenv("MHFA_BASE_URL", "https://proxy.example.gov.uk")
    assert config.from_environment(str(tmp_path))["MHFA_BASE_URL"] == "https://proxy.example.gov.uk"
    (tmp_path / "mhfa.env").write_text("MHFA_BASE_URL https://nope\n")
    with pytest.raises(ValueError, match="line 1: expected NAME=value"):
        config.from_environment(str(tmp_path))
    assert config.from_environment(str(tmp_path / "none"))["MHFA_BASE_URL"] == "https://proxy.example.gov.uk"


def test_send_reminders_from_cron_delivers_what_it_queues(runner, smtp, app_ctx, monkeypatch):
    monkeypatch.setitem(app_ctx.config, "MHFA_DELIVER_AFTER_COMMIT", False)  # as cron runs it
    soon = factories.course(start=datetime.now() + timedelta(days=1, hours=12))
    booked = factories.user(Role.TRAINEE, first_name="Rosa")
    factories.booking_on(soon, booked.person)
    db.session.commit()
    queued_only = runner.invoke(args=["mhfa", "send-reminders", "--no-deliver"])
    assert "Course reminders sent: 1" in queued_only.output and smtp.messages == []
    delivered = runner.invoke(args=["mhfa", "send-reminders"])
    assert delivered.exit_code == 0 and "Emails sent: 1" in delivered.output, delivered.output
    [message] = smtp.messages
    assert message["To"] == booked.email and "Hello Rosa" in smtp.text(message)
