"""Indicators from the record, chat statistics, written reports and open-data exports.

The domain side of reporting: it reads the database and renders files; it never imports a
chat SDK. Charts import matplotlib lazily, so the running bot pays for it only when a chart
is asked for.
"""
