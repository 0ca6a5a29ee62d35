"""Handlers installed with setattr in __init__ and looked up with getattr per query."""


class Handlers:
    def __init__(self, table):
        for name, fn in table.items():
            setattr(self, f"on_{name}", fn)

    def handle(self, event, payload):
        handler = getattr(self, f"on_{event}", None)
        if handler is None:
            return f"unhandled {event}"
        return handler(payload)


h = Handlers({"add": lambda p: sum(p), "upper": str.upper, "count": len})
queries = [("add", [1, 2, 3]), ("upper", "abc"), ("count", "hello"), ("drop", None)]
print([h.handle(event, payload) for event, payload in queries])
