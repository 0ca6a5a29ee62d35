"""Classes built at run time with type(name, bases, namespace)."""


def make_model(name, fields):
    def __init__(self, **values):
        for field in fields:
            setattr(self, field, values.get(field))

    def __repr__(self):
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in fields)
        return f"{name}({inner})"

    return type(name, (object,), {"__init__": __init__, "__repr__": __repr__, "fields": tuple(fields)})


User = make_model("User", ["id", "email"])
Tag = type("Tag", (User,), {"kind": "tag"})
print(User(id=1, email="a@example.invalid"))
print(Tag(id=2), Tag.kind, Tag.fields, [c.__name__ for c in Tag.__mro__])
