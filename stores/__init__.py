"""Glue between Django and the two stores.

The engines live in the plain Python packages ``stores.kv`` and
``stores.wide``, which never import Django. Everything else in this package
(the app config, ``clients``, the cache backend, admin pages, management
commands) is Django glue. Keep this file free of imports so that importing an
engine never drags Django in.
"""
