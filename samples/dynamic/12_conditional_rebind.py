"""Choosing the implementation at run time: both branches are taken."""


def fast(n):
    return n * (n + 1) // 2


def slow(n):
    return sum(range(n + 1))


for use_fast in (True, False):
    impl = fast if use_fast else slow
    print(impl.__name__, impl(100))
