"""_sqlite3: an in-memory database with a table, an index, aggregates and a Python function."""
import json as _anchor
import os
import sqlite3
import sys

# Paths are printed relative to the standard library directory, which may differ
# between the two interpreters; "built-in" means compiled into the interpreter itself.
STDLIB = os.path.dirname(os.path.dirname(_anchor.__file__))


def origin(name):
    module = sys.modules.get(name)
    if module is None:
        return f"{name}: not loaded"
    path = getattr(module, "__file__", None)
    return f"{name}: {os.path.relpath(path, STDLIB) if path else 'built-in'}"


print(origin("_sqlite3"))
con = sqlite3.connect(":memory:")
con.create_function("rev", 1, lambda s: s[::-1])
con.execute("create table fruit (id integer primary key, name text not null, qty integer)")
con.execute("create index fruit_name on fruit(name)")
con.executemany("insert into fruit (name, qty) values (?, ?)",
                [("apple", 3), ("pear", 5), ("fig", 0), ("kiwi", 12), ("apple", 4)])
print(con.execute("select name, sum(qty), count(*) from fruit group by name order by name").fetchall())
print(con.execute("select rev(name) from fruit where qty > ? order by id", (3,)).fetchall())
con.row_factory = sqlite3.Row
row = con.execute("select max(qty) as top, avg(qty) as mean, group_concat(name, '|') as names from fruit").fetchone()
print(dict(row))
try:
    con.execute("insert into fruit (name) values (null)")
except sqlite3.IntegrityError as exc:
    print("IntegrityError:", exc)
print("total_changes", con.total_changes)
con.close()
