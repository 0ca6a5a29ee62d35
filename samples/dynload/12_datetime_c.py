"""_datetime: fixed dates, arithmetic, formatting and time zones (TZ=UTC)."""
import datetime as dt
import _datetime
import json as _anchor
import os
import sys
import time

# Paths are printed relative to the standard library directory, which may differ
# between the two interpreters; "built-in" means compiled into the interpreter itself.
STDLIB = os.path.dirname(os.path.dirname(_anchor.__file__))


def origin(name):
    module = sys.modules.get(name)
    if module is None:
        return f"{name}: not loaded"
    path = getattr(module, "__file__", None)
    return f"{name}: {os.path.relpath(path, STDLIB) if path else 'built-in'}"


print(origin("_datetime"), dt.datetime is _datetime.datetime)
moment = dt.datetime(2026, 6, 4, 16, 38, 5, 123456)
print(moment.isoformat(), moment.strftime("%A %d %B %Y %j %U %I%p"), moment.weekday())
later = moment + dt.timedelta(days=400, seconds=-3600, microseconds=1)
print(later, later - moment, (later - moment).total_seconds())
tokyo = dt.timezone(dt.timedelta(hours=9), "JST")
aware = moment.replace(tzinfo=dt.timezone.utc)
print(aware.astimezone(tokyo), aware.timestamp(), aware.astimezone(tokyo).tzname())
print(dt.datetime.fromisoformat("2026-01-31T23:59:59+05:30").utcoffset())
print(dt.date(2024, 2, 28) + dt.timedelta(days=1), dt.date.fromordinal(738000), dt.date(2026, 1, 1).isocalendar())
print(dt.datetime.fromtimestamp(0), dt.datetime.fromtimestamp(86400 * 365.25, dt.timezone.utc))
print(time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(1_000_000_000)), time.timezone, time.tzname)
