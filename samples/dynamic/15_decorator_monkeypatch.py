"""A decorator applied by monkey patching, forwarding *args and **kwargs."""
import functools

log = []


def add_log(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        log.append(f"{fn.__qualname__}{args[1:]}{sorted(kwargs.items())}")
        return fn(*args, **kwargs)
    return wrapper


class Service:
    def compute(self, x, y=1, *, factor=2):
        return (x + y) * factor


s = Service()
print(s.compute(3))
Service.compute = add_log(Service.compute)
print(s.compute(3, 4, factor=10))
print(s.compute(x=1))
print(log, Service.compute.__name__)
