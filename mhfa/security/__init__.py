"""Cross-cutting defences: hostile input refused with a 4xx, faults answered with a clear 503.

Below every domain area (like ``flow``): nothing here imports an area.
"""
