"""abc.ABC with abstract methods: instantiating an incomplete class is refused."""
import abc


class Storage(abc.ABC):
    @abc.abstractmethod
    def read(self, key): ...

    @abc.abstractmethod
    def write(self, key, value): ...

    def copy(self, src, dst):
        self.write(dst, self.read(src))


class Memory(Storage):
    def __init__(self):
        self.data = {"a": 1}

    def read(self, key):
        return self.data[key]

    def write(self, key, value):
        self.data[key] = value


class Partial(Storage):
    def read(self, key):
        return None


m = Memory()
m.copy("a", "b")
print(sorted(m.data.items()))
try:
    Partial()
except TypeError as exc:
    print(f"TypeError: {exc}")
print(sorted(Storage.__abstractmethods__), isinstance(m, Storage))
