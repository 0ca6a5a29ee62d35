"""An uncaught exception: exit status 1 and a chained traceback on stderr.

The traceback names this script by its absolute path; the runner runs both
interpreters from the same directory so the two must be equal byte for byte.
"""
print("before the failure", flush=True)


def parse(text):
    return int(text)


def load(values):
    try:
        return [parse(v) for v in values]
    except ValueError as exc:
        raise RuntimeError(f"bad input in {values!r}") from exc


def main():
    config = {"retries": "3"}
    print(config["retries"])
    load(["1", "2", "three"])


main()
print("never printed")
