"""Enum with auto(), methods and lookups, plus the functional API."""
from enum import Enum, Flag, auto


class Colour(Enum):
    RED = auto()
    GREEN = auto()
    BLUE = auto()

    def describe(self):
        return f"{self.name.lower()}#{self.value}"


Perm = Flag("Perm", ["READ", "WRITE", "EXEC"])
print([c.describe() for c in Colour])
print(Colour(2), Colour["BLUE"], Colour.RED is Colour(1))
rw = Perm.READ | Perm.WRITE
print(rw, Perm.WRITE in rw, Perm.EXEC in rw, rw.value)
Status = Enum("Status", "ACTIVE INACTIVE")
print(list(Status), Status.INACTIVE.value)
