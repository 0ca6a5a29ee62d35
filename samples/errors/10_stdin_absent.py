"""Standard input is /dev/null: reading gives nothing and input() raises EOFError."""
import sys

print("isatty", sys.stdin.isatty(), "encoding", sys.stdin.encoding)
print("read", repr(sys.stdin.read()))
print("readline", repr(sys.stdin.readline()))
try:
    input("prompt> ")
except EOFError as exc:
    print("\nEOFError", repr(exc))
print("lines", list(sys.stdin))
