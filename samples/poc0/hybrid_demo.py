"""PoC 0: the hybrid demo. The static part is a fixed number; the dynamic part sets
attributes by name on a plain object and reads them back through a generator."""
import sys


def main() -> None:
    static_part: int = 100
    attr_names: list[str] = ["x", "y", "z"]
    attr_pairs: list[tuple[str, int]] = [("x", 10), ("y", 20), ("z", 30)]

    class Box:
        pass

    box = Box()
    for key, value in attr_pairs:
        setattr(box, key, value)
    total = sum(getattr(box, name) for name in attr_names)
    sys.stdout.write(f"static={static_part}|dynamic={total}|sum={static_part + total}\n")


main()
