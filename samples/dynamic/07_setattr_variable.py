"""setattr with names that come from data, then read back through vars()."""


class Record:
    pass


config = [("width", 640), ("height", 480), ("title", "main"), ("width", 800)]
record = Record()
for name, value in config:
    setattr(record, name, value)
print(sorted(vars(record).items()))
print(record.width * record.height)
