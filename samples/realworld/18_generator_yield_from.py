"""yield from to flatten recursively, and send() driving a coroutine pipeline."""


def flatten(items):
    for item in items:
        if isinstance(item, list):
            yield from flatten(item)
        else:
            yield item


def running_average():
    total, count, average = 0, 0, None
    while True:
        value = yield average
        total += value
        count += 1
        average = total / count


def delegate():
    result = yield from running_average()
    return result


print(list(flatten([1, [2, [3, [4]], 5], [[6]]])))
avg = delegate()
next(avg)
print([avg.send(v) for v in (10, 20, 60)])
