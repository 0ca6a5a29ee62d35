"""*args: a function that takes any number of positional arguments."""


def total(*args):
    return sum(args)


def describe(*args):
    return f"{len(args)} args, first={args[0] if args else None!r}"


print(total(1, 2, 3, 4))
print(total())
print(describe("a", "b"))
print(describe())
