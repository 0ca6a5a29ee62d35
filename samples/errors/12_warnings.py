"""Warnings shown by the default filters: UserWarning, a DeprecationWarning triggered
in __main__, and a repeated warning printed once per location."""
import warnings


def old_api():
    warnings.warn("old_api() is deprecated; call new_api()", DeprecationWarning, stacklevel=2)
    return 1


for _ in range(3):
    warnings.warn("disk almost full")
old_api()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    warnings.warn("recorded", RuntimeWarning)
print([f"{w.category.__name__}: {w.message}" for w in caught])
print("done")
