"""gunicorn's settings for MHFA Reach: read by gunicorn from the working directory (or ``-c gunicorn.conf.py``).

* The access log (``MHFA_ACCESS_LOG``: a file, or ``-`` for standard output; none when unset) masks
  private links and personal query values (``mhfa.security.logs``).
* Every worker is told how many there are (``MHFA_WORKERS``), so the app refuses to keep its sign-in
  counts in one process's memory while several processes serve it.
"""
import os

from mhfa.security.logs import MaskingGunicornLogger

logger_class = MaskingGunicornLogger
accesslog = os.environ.get("MHFA_ACCESS_LOG") or None
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'


def on_starting(server):
    """Before the workers start: they learn how many of them serve the app (``--workers``, config or env)."""
    os.environ["MHFA_WORKERS"] = str(server.cfg.workers)


def post_worker_init(worker):
    """With ``--preload`` the app was built before ``on_starting``: check its rate-limit store here too."""
    from mhfa.extensions import refuse_per_process_limits

    config = getattr(worker.wsgi, "config", None)
    if config is not None:
        refuse_per_process_limits(config, workers=worker.cfg.workers)
