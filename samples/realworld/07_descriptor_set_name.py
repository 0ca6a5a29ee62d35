"""A typed field descriptor that learns its name through __set_name__ (ORM style)."""


class Field:
    def __init__(self, kind):
        self.kind = kind

    def __set_name__(self, owner, name):
        self.name = name
        owner.columns = getattr(owner, "columns", ()) + (name,)

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return obj.__dict__.get(self.name)

    def __set__(self, obj, value):
        if not isinstance(value, self.kind):
            raise TypeError(f"{self.name} expects {self.kind.__name__}")
        obj.__dict__[self.name] = value


class Row:
    id = Field(int)
    title = Field(str)


row = Row()
row.id, row.title = 7, "seven"
print(Row.columns, row.id, row.title)
try:
    row.id = "x"
except TypeError as exc:
    print(f"TypeError: {exc}")
