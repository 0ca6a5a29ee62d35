"""sys.exit(3): the exit status is 3, nothing is written to stderr, finally blocks run."""
import sys

try:
    print("exiting with 3")
    sys.exit(3)
finally:
    print("finally ran")
