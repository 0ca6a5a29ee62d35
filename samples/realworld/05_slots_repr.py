"""__slots__ with __repr__ and __add__; a slotted instance refuses new attributes."""


class Vec:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __add__(self, other):
        return Vec(self.x + other.x, self.y + other.y)

    def __repr__(self):
        return f"Vec({self.x}, {self.y})"


v = Vec(1, 2) + Vec(3, 4)
print(v)
try:
    v.z = 5
except AttributeError as exc:
    print(f"AttributeError: {exc}")
print(hasattr(v, "__dict__"), Vec.__slots__)
