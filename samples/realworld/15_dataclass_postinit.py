"""@dataclass(order=True) with __post_init__ and field(default_factory=...)."""
from dataclasses import asdict, dataclass, field


@dataclass(order=True)
class Task:
    priority: int
    name: str = field(compare=False)
    tags: list = field(default_factory=list, compare=False)
    slug: str = field(init=False, compare=False)

    def __post_init__(self):
        self.slug = self.name.lower().replace(" ", "-")


tasks = [Task(3, "Write Docs"), Task(1, "Fix Bug", ["urgent"]), Task(2, "Review PR")]
for t in sorted(tasks):
    print(t)
print(asdict(tasks[1]))
print(Task(1, "a") == Task(1, "b"), Task(1, "x") < Task(2, "y"))
