"""The recursion limit: how deep a script gets before RecursionError is the same in
both interpreters only if they start the script at the same stack depth."""
import sys

depth = 0


def dive():
    global depth
    depth += 1
    dive()


print("limit", sys.getrecursionlimit())
try:
    dive()
except RecursionError as exc:
    print("reached", depth, exc)
depth = 0
sys.setrecursionlimit(200)
try:
    dive()
except RecursionError:
    print("reached with limit 200:", depth)
