"""The Redis broker transport of the workers: kombu's, without the restore of unacknowledged
messages when a connection closes.

When Redis restarts, the worker closes its broker connection before reconnecting. If it holds a
message it has received and not yet acknowledged (a message reserved for a process about to be
free), kombu's Redis transport restores it on close through a connection that is already gone,
and the worker exits with "Unrecoverable error: AttributeError: 'NoneType' object has no
attribute 'hostname'" (kombu's `_connparams`; reproduced by
`tests/reliability/test_crashes.py`). Nothing needs that restore: such a message stays in
Redis' unacknowledged set and is delivered again after `visibility_timeout`, and the database
sweeper sends its row again long before (`IMPORT_QUEUED_DEADLINE_SECONDS`); a duplicate message
finds its row already claimed and does nothing.
"""

from __future__ import annotations

from kombu.transport import redis


class Channel(redis.Channel):
    do_restore = False


class Transport(redis.Transport):
    Channel = Channel


__all__ = ["Transport"]
