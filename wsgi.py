"""WSGI entry point: ``flask --app wsgi`` and ``gunicorn wsgi:app``."""
import gc

from mhfa import create_app

app = create_app()
# What the app holds from start to stop (modules, routes, templates, mappers) is put out of the garbage
# collector's reach: a full collection walking it paused a request for about 200 ms every hundred or so.
gc.collect()
gc.freeze()
