"""A class with __call__ used as a memoizing decorator (@Memoize on fib)."""


class Memoize:
    def __init__(self, fn):
        self.fn = fn
        self.cache = {}
        self.misses = 0

    def __call__(self, *args):
        if args not in self.cache:
            self.misses += 1
            self.cache[args] = self.fn(*args)
        return self.cache[args]


@Memoize
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


print(fib(80))
print(f"misses={fib.misses} cached={len(fib.cache)}")
print(fib(30), fib.misses, callable(fib))
