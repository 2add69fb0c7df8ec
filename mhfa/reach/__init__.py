"""Reach: the programme's settings, the kept reach figures, the dashboard, imports, exports and API.

The top of the layering: it reads every area's models and services, and nothing below imports it.
Changes made by lower areas (completions, revocations, profile edits) reach the kept figures through
a session listener that this area registers at app creation (:func:`mhfa.reach.upkeep.register`).
"""
