"""Replacing a method on the class: existing instances see the new one."""


class Counter:
    def __init__(self):
        self.n = 0

    def value(self):
        return self.n


def faster_value(self):
    return self.n * 10


c = Counter()
c.n = 4
print(c.value())
Counter.value = faster_value
print(c.value())
print(Counter().value(), Counter.value.__name__)
