"""collections.namedtuple with defaults, _replace, _asdict and _make."""
from collections import namedtuple

Point = namedtuple("Point", ["x", "y", "z"], defaults=[0])
p = Point(1, 2)
print(p, p._fields, p._field_defaults)
q = p._replace(z=9)
print(q, q._asdict())
print(Point._make([4, 5, 6]), tuple(q), q.x + q.z)
x, y, z = q
print(x, y, z, isinstance(q, tuple))
