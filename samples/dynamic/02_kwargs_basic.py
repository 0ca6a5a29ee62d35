"""**kwargs: keyword arguments of any names, iterated sorted and in call order."""


def render(**kwargs):
    return ", ".join(f"{k}={kwargs[k]!r}" for k in sorted(kwargs))


def call_order(**kwargs):
    return list(kwargs)


print(render(zeta=1, alpha="a", mid=[2]))
print(call_order(zeta=1, alpha="a", mid=[2]))
print(render())
